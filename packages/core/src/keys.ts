import { InvalidArgumentError, InvalidKeyError } from './errors.js'

const encoder = new TextEncoder()

/** Length of a string in UTF-8 bytes. */
export function utf8Length(value: string): number {
  // Pure ASCII is the common case; only fall back to encoding when a wide char is present.
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return encoder.encode(value).length
  }
  return value.length
}

/**
 * Key rules: a non-empty string of well-formed UTF-16 (no lone surrogate: every backend that
 * stores UTF-8 would turn one into U+FFFD and make distinct keys collide), at most `maxLength`
 * UTF-8 bytes. Any other character is allowed (unicode, spaces, newlines, glob characters);
 * stores that cannot hold some map them.
 */
export function assertKey(
  key: unknown,
  maxLength = Number.POSITIVE_INFINITY,
): asserts key is string {
  // A valid key passes in a few instructions (small enough to inline into a store's hot path);
  // the error messages are built apart, only for a key that fails.
  if (
    typeof key === 'string' &&
    key.length !== 0 &&
    key.isWellFormed() &&
    (maxLength === Number.POSITIVE_INFINITY || !(utf8Length(key) > maxLength))
  ) {
    return
  }
  refuseKey(key, maxLength)
}

function refuseKey(key: unknown, maxLength: number): never {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(`[cellar] key must be a string, got ${typeof key}`)
  }
  if (key.length === 0) {
    throw new InvalidKeyError('[cellar] key must not be empty', { key })
  }
  if (!key.isWellFormed()) {
    throw new InvalidKeyError(
      `[cellar] key ${JSON.stringify(key.slice(0, 64))} has a lone UTF-16 surrogate; keys must be well-formed text`,
      { key },
    )
  }
  throw new InvalidKeyError(
    `[cellar] key "${key.slice(0, 64)}" is ${utf8Length(key)} bytes; this store allows at most ${maxLength}`,
    { key },
  )
}

/** Checks every key of a batch before anything is written. */
export function assertKeys(keys: unknown, maxLength?: number): asserts keys is string[] {
  if (!Array.isArray(keys)) {
    throw new InvalidArgumentError(`[cellar] keys must be an array, got ${typeof keys}`)
  }
  for (const key of keys) assertKey(key, maxLength)
}

/** Checks that a value is bytes within `maxSize`; throws `E_VALUE_TOO_LARGE` past it. */
export function assertBytes(
  value: unknown,
  key: string,
  maxSize = Number.POSITIVE_INFINITY,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `[cellar] value for key "${key}" must be a Uint8Array, got ${value === null ? 'null' : typeof value}`,
      { key },
    )
  }
  if (value.byteLength > maxSize) {
    throw new InvalidArgumentError(
      `[cellar] value for key "${key}" is ${value.byteLength} bytes; this store allows at most ${maxSize}`,
      { key, code: 'E_VALUE_TOO_LARGE' },
    )
  }
}

/** Checks an `increment` delta: a safe integer. */
export function assertDelta(delta: unknown, key: string): asserts delta is number {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new InvalidArgumentError(
      `[cellar] increment delta for key "${key}" must be a safe integer, got ${String(delta)}`,
      { key },
    )
  }
}

// Namespaces. A store keeps key `k` at `<prefix>k`, and namespace `n` of it lives under
// `<prefix>~<n>:`, with `:` `~` and `%` of `n` percent-encoded. A plain key that itself starts
// with `~` is kept as `~~…`. So at one level a plain key never starts with `~` + a name char,
// a namespace segment never starts with `~~`, and two names differ before the first `:` of
// either: no plain key, sibling or nested namespace can reach another's entries.
const NAMESPACE_MARK = '~'
const MARK_CODE = 0x7e

/**
 * Where a store with `prefix` keeps `key`: `prefix + key`, except that a key starting with `~`
 * is written `~~…` so that it cannot land inside a namespace (see `namespacePrefix`).
 */
export function scopedKey(prefix: string, key: string): string {
  if (key.charCodeAt(0) === MARK_CODE) return `${prefix}${NAMESPACE_MARK}${key}`
  // The un-prefixed common case without a string concatenation (a builtin call even with '').
  return prefix === '' ? key : prefix + key
}

/**
 * The prefix of namespace `name` under a store whose prefix is `prefix`. Every store's
 * `namespace()` uses it so that no plain key of the parent and no sibling namespace (even
 * one whose name starts with `name`) can alias the namespace's entries. Checks `name` like a
 * key (non-empty, well-formed).
 */
export function namespacePrefix(prefix: string, name: string): string {
  assertKey(name)
  const escaped = name.replace(/[%:~]/g, (char) =>
    char === '%' ? '%25' : char === ':' ? '%3A' : '%7E',
  )
  return `${prefix}${NAMESPACE_MARK}${escaped}:`
}

/**
 * The caller's key for a stored key of the store whose prefix is `prefix`, or `undefined` when
 * the stored key is not one of that store's own plain keys (another prefix, or an entry of a
 * nested namespace). The inverse of `scopedKey`, for `keys()`.
 */
export function unscopedKey(prefix: string, stored: string): string | undefined {
  if (!stored.startsWith(prefix)) return undefined
  if (stored.charCodeAt(prefix.length) !== MARK_CODE) {
    return stored.length > prefix.length ? stored.slice(prefix.length) : undefined
  }
  return stored.charCodeAt(prefix.length + 1) === MARK_CODE
    ? stored.slice(prefix.length + 1)
    : undefined
}
