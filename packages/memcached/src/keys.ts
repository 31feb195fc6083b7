import { createHash } from 'node:crypto'
import { InvalidArgumentError, namespacePrefix, scopedKey } from '@cellar/core'

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

/**
 * The key memcached sees for a logical key `raw`: `raw` itself when it is at most 250 bytes of
 * printable ASCII, else `<prefix>#<base64url sha256 of raw as UTF-8>`.
 */
export function memcachedKey(prefix: string, raw: string): string {
  if (raw.length <= MAX_KEY_BYTES && isPlain(raw)) return raw
  return `${prefix}#${createHash('sha256').update(raw).digest('base64url')}`
}

/**
 * Builds data keys for one generation vector: `<prefix><g0>.<g1>…:<scoped key>`, where the
 * scoped key is core's `scopedKey(path, key)` and `path` the namespace path under the root
 * (core's `namespacePrefix`, once per level). The generations (digits and dots up to the first
 * `:`) parse one way, and core's encoding is prefix-free, so no two (vector, path, key) triples
 * share a string, and hashing (SHA-256 of that whole string) keeps them apart.
 */
export class Head {
  readonly gens: readonly number[]
  readonly #prefix: string
  readonly #path: string
  readonly #text: string
  readonly #plain: boolean

  constructor(prefix: string, path: string, gens: readonly number[]) {
    this.gens = gens
    this.#prefix = prefix
    this.#path = path
    this.#text = `${prefix}${gens.join('.')}:`
    this.#plain = isPlain(this.#text) && isPlain(path)
  }

  /** The memcached key of the caller's `key` under this generation vector. */
  key(key: string): string {
    const raw = this.#text + scopedKey(this.#path, key)
    if (this.#plain && raw.length <= MAX_KEY_BYTES && isPlain(key)) return raw
    return memcachedKey(this.#prefix, raw)
  }

  /** True when `gens` holds the same generations. */
  matches(gens: readonly number[]): boolean {
    return gens.length === this.gens.length && gens.every((gen, i) => gen === this.gens[i])
  }
}

/**
 * Every key a store at one namespace path uses. After the root prefix, data keys start with a
 * digit (their generations), bookkeeping keys with `__`, hashed keys with `#`, so no key of one
 * kind can equal a key of another.
 */
export class KeySpace {
  /** The root store's prefix. */
  readonly prefix: string
  /** This namespace's path under the root: `''`, then `namespacePrefix(path, name)` per level. */
  readonly path: string
  /** Generation keys, outermost first: `<prefix>__gen:<path of each level>`. */
  readonly genKeys: readonly string[]
  readonly #paths: readonly string[]

  constructor(prefix: string, paths: readonly string[] = ['']) {
    this.prefix = prefix
    this.path = paths[paths.length - 1]!
    this.genKeys = paths.map((path) => memcachedKey(prefix, `${prefix}__gen:${path}`))
    this.#paths = paths
  }

  /** The key space of the namespace `name` below this one (checks `name` like a key). */
  child(name: string): KeySpace {
    return new KeySpace(this.prefix, [...this.#paths, namespacePrefix(this.path, name)])
  }

  /** Data keys for the generation vector `gens` (one per level). */
  head(gens: readonly number[]): Head {
    return new Head(this.prefix, this.path, gens)
  }

  /** The key holding lock `name` (outside the generations: `clear()` never drops a lock). */
  lockKey(name: string): string {
    return memcachedKey(this.prefix, `${this.prefix}__lock:${scopedKey(this.path, name)}`)
  }

  /** The fencing counter of lock `name`, kept beside the lock. */
  fenceKey(name: string): string {
    return memcachedKey(this.prefix, `${this.prefix}__fence:${scopedKey(this.path, name)}`)
  }
}
