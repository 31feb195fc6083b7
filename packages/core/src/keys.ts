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
 * Key rules: a non-empty string, at most `maxLength` UTF-8 bytes. Any character is allowed
 * (unicode, spaces, newlines, glob characters); stores that cannot hold some map them.
 */
export function assertKey(
  key: unknown,
  maxLength = Number.POSITIVE_INFINITY,
): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(`[cellar] key must be a string, got ${typeof key}`)
  }
  if (key.length === 0) {
    throw new InvalidKeyError('[cellar] key must not be empty', { key })
  }
  if (maxLength !== Number.POSITIVE_INFINITY && utf8Length(key) > maxLength) {
    throw new InvalidKeyError(
      `[cellar] key "${key.slice(0, 64)}" is ${utf8Length(key)} bytes; this store allows at most ${maxLength}`,
      { key },
    )
  }
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
