import { createHash } from 'node:crypto'
import { InvalidArgumentError } from '@cellar/core'

/** memcached's KEY_MAX_LENGTH. */
export const MAX_KEY_BYTES = 250
/** Longest store prefix: leaves room for `#` and a 43-character hash. */
export const MAX_PREFIX_BYTES = 200

/** True when every character is printable ASCII without space (what memcached keys allow). */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x21 || code > 0x7e) return false
  }
  return true
}

/** Checks a store prefix once, in the constructor. */
export function assertPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || !isPlain(prefix) || prefix.length > MAX_PREFIX_BYTES) {
    throw new InvalidArgumentError(
      `[cellar:memcached] prefix must be printable ASCII without spaces, at most ${MAX_PREFIX_BYTES} bytes; got ${JSON.stringify(String(prefix).slice(0, 64))}`,
    )
  }
}

// Namespace names are joined with ':'; escaping ':' and '%' keeps every path unambiguous.
function escapeName(name: string): string {
  return name.includes(':') || name.includes('%')
    ? name.replaceAll('%', '%25').replaceAll(':', '%3A')
    : name
}

/**
 * The key memcached sees for a logical key `raw`: `raw` itself when it is at most 250 bytes of
 * printable ASCII, else `<prefix>#<base64url sha256 of raw as UTF-8>`.
 */
export function memcachedKey(prefix: string, raw: string): string {
  if (raw.length <= MAX_KEY_BYTES && isPlain(raw)) return raw
  return `${prefix}#${createHash('sha256').update(raw).digest('base64url')}`
}

/**
 * Builds data keys for one generation vector: `<prefix><g0>.<g1>…:<ns1>:…<key>`. A parent's
 * generation is part of its namespaces' keys, so clearing the parent hides theirs too.
 */
export class Head {
  readonly gens: readonly number[]
  readonly #prefix: string
  readonly #text: string
  readonly #plain: boolean

  constructor(prefix: string, path: string, gens: readonly number[]) {
    this.gens = gens
    this.#prefix = prefix
    this.#text = `${prefix}${gens.join('.')}:${path}`
    this.#plain = isPlain(this.#text)
  }

  /** The memcached key of the caller's `key` under this generation vector. */
  key(key: string): string {
    const raw = this.#text + key
    if (this.#plain && raw.length <= MAX_KEY_BYTES && isPlain(key)) return raw
    return memcachedKey(this.#prefix, raw)
  }

  /** True when `gens` holds the same generations. */
  matches(gens: readonly number[]): boolean {
    return gens.length === this.gens.length && gens.every((gen, i) => gen === this.gens[i])
  }
}

/**
 * Every key a store at one namespace path uses. Data keys start with a digit after the prefix,
 * bookkeeping keys with `__`, hashed keys with `#`, so none can collide with another kind.
 */
export class KeySpace {
  readonly prefix: string
  readonly names: readonly string[]
  /** Generation keys, outermost first: `<prefix>__gen`, `<prefix>__gen:<ns1>`… */
  readonly genKeys: readonly string[]
  readonly #path: string
  readonly #metaPath: string

  constructor(prefix: string, names: readonly string[]) {
    this.prefix = prefix
    this.names = names
    const escaped = names.map(escapeName)
    this.#path = escaped.map((name) => `${name}:`).join('')
    this.#metaPath = escaped.map((name) => `:${name}`).join('')
    const levels = escaped.map((_, i) =>
      escaped
        .slice(0, i + 1)
        .map((name) => `:${name}`)
        .join(''),
    )
    this.genKeys = ['', ...levels].map((path) => memcachedKey(prefix, `${prefix}__gen${path}`))
  }

  /** The key space of the namespace `name` below this one. */
  child(name: string): KeySpace {
    return new KeySpace(this.prefix, [...this.names, name])
  }

  /** Data keys for the generation vector `gens` (one per level). */
  head(gens: readonly number[]): Head {
    return new Head(this.prefix, this.#path, gens)
  }

  /** The key holding lock `name` (outside the generations: `clear()` never drops a lock). */
  lockKey(name: string): string {
    return memcachedKey(this.prefix, `${this.prefix}__lock${this.#metaPath}:${name}`)
  }

  /** The fencing counter of lock `name`, kept beside the lock. */
  fenceKey(name: string): string {
    return memcachedKey(this.prefix, `${this.prefix}__fence${this.#metaPath}:${name}`)
  }
}
