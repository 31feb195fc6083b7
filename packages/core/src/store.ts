import type { Ttl } from './duration.js'
import type { Lock, LockOptions } from './lock.js'
import type { RateLimitBackend } from './rate-limit.js'

/**
 * What a store can and cannot do, declared (never sniffed) so that higher layers and the
 * conformance suite can refuse or skip clearly instead of silently misbehaving.
 */
export interface StoreCapabilities {
  /** `increment` is atomic across every client of the backend. */
  readonly atomicCounters: boolean
  /** `add` is atomic: of concurrent adds of one key exactly one writes. */
  readonly atomicAdd: boolean
  /** `lock()` is available. */
  readonly locks: boolean
  /** Several processes see the same entries. */
  readonly sharedAcrossProcesses: boolean
  /** Entries survive a restart of the process (and of the backend, where it persists). */
  readonly persistent: boolean
  /** Entries written are kept (false only for stores that cache nothing, like `NullStore`). */
  readonly retainsValues: boolean
  /** Keeps values as given (no bytes); the gateway then skips serialization. */
  readonly raw: boolean
  /** Longest key accepted, in UTF-8 bytes, after the store's own prefix; `Infinity` if unbounded. */
  readonly maxKeyLength: number
  /** Largest value accepted, in bytes; `Infinity` if unbounded. */
  readonly maxValueSize: number
  /** Smallest TTL step the backend honours, in milliseconds (1, or 1000 for memcached). */
  readonly ttlPrecision: number
  /**
   * `getSync` is available: the store answers in-process, without a promise (and where it also
   * has `setSync`, writes that way too).
   */
  readonly synchronous?: boolean
  /**
   * `ttl(key)` reports the remaining lifetime. False where the backend cannot tell (memcached):
   * `ttl()` then resolves `undefined` for a missing key and throws `E_UNSUPPORTED` otherwise.
   */
  readonly readsTtl: boolean
  /** `keys()` lists the live keys of this store's namespace. */
  readonly listsKeys: boolean
  /**
   * The store may drop entries before their TTL (an LRU bound, memcached's eviction, a Redis
   * `maxmemory-policy` that evicts). Layers that keep state they cannot lose (generation
   * counters, limiter windows) refuse such a store unless the caller accepts it.
   */
  readonly evicts: boolean
  /** `rateLimiter()` is available: the store decides rate limits natively and atomically. */
  readonly rateLimits?: boolean
}

/** Options of `Store.increment`. */
export interface IncrementOptions {
  /**
   * TTL of the counter when this increment creates it, set in the same atomic step; an existing
   * counter keeps its TTL. Omitted → the store's default TTL; `null` → never expires.
   */
  readonly ttl?: Ttl
}

/**
 * The protocol every adapter implements: bytes in, bytes out (or values, for raw stores),
 * plus native counters. Keys are the caller's keys; the store applies its own prefix.
 */
export interface Store<V = Uint8Array> {
  /** A short name for errors and events, e.g. `'redis'`. */
  readonly name: string
  /** What this store can do. */
  readonly capabilities: StoreCapabilities

  /** Resolves the stored value, or `undefined` on a miss or an expired entry. */
  get(key: string): Promise<V | undefined>
  /** Resolves one result per key, in request order, `undefined` for misses. */
  getMany(keys: readonly string[]): Promise<Array<V | undefined>>
  /** Writes a value; a TTL `<= 0` removes the key instead. */
  set(key: string, value: V, ttl?: Ttl): Promise<void>
  /** Writes every entry with the same TTL. */
  setMany(entries: ReadonlyArray<readonly [string, V]>, ttl?: Ttl): Promise<void>
  /** Writes only if the key is absent (or expired); resolves true if it wrote. */
  add(key: string, value: V, ttl?: Ttl): Promise<boolean>
  /** Resolves true if the key holds a live entry. */
  has(key: string): Promise<boolean>
  /** Resolves true if a key was removed. */
  delete(key: string): Promise<boolean>
  /** Resolves how many of the keys were removed. */
  deleteMany(keys: readonly string[]): Promise<number>
  /**
   * Adds `delta` (a safe integer, default 1) and resolves the new value, atomically where
   * `capabilities.atomicCounters`. A missing key starts at 0 and takes `options.ttl` (else the
   * store's default TTL) in the same atomic step; an existing key keeps its TTL. Throws
   * `E_NOT_A_NUMBER`, leaving the value unchanged, if it is not a canonical decimal counter or
   * the result would leave the safe-integer range.
   */
  increment(key: string, delta?: number, options?: IncrementOptions): Promise<number>
  /**
   * Replaces the TTL of a live entry; resolves true if it did. Never revives an expired entry;
   * a TTL `<= 0` removes the entry (and resolves true if one was live).
   */
  touch(key: string, ttl: Ttl): Promise<boolean>
  /**
   * The remaining lifetime in milliseconds: `null` for an entry without expiry, `undefined` for
   * a missing or expired key. Where `capabilities.readsTtl` is false, a live key throws
   * `E_UNSUPPORTED`.
   */
  ttl(key: string): Promise<number | null | undefined>
  /** Removes every entry under this store's own prefix/namespace, and nothing else (never a lock). */
  clear(): Promise<void>
  /**
   * A store over the same backend and connection whose keys live under `name` (see core's
   * `namespacePrefix`): no key of the parent or of a sibling namespace can alias its entries.
   */
  namespace(name: string): Store<V>
  /**
   * Releases what this store owns. The root store (the one constructed) closes the connections,
   * timers and files it created — never a client it was given — and every namespace made from
   * it refuses calls afterwards. Closing a namespace releases nothing shared: only that
   * namespace refuses calls. Idempotent. After close every method rejects with `E_STORE_CLOSED`.
   */
  close(): Promise<void>
  /**
   * The live keys of this namespace (not of nested namespaces), in no particular order; present
   * when `capabilities.listsKeys` is true. Keys written while iterating may or may not appear.
   */
  keys?(): AsyncIterable<string>
  /** `get` without a promise; present when `capabilities.synchronous` is true. */
  getSync?(key: string): V | undefined
  /**
   * Optional, with `getSync`: a settled promise of `read(getSync(key))`, or of `undefined` on a
   * miss (no `read`). The store may hand out the same promise again to calls with the same
   * `read` for as long as the entry holds the same value (so only where a read returns the
   * stored value itself, never a copy), and never for a thenable. The gateway's `getValue` uses
   * it on raw stores: an awaited hit then allocates and resolves nothing.
   */
  getSettled?(key: string, read: (value: V) => unknown): Promise<unknown>
  /**
   * A hit answered in-process, without a promise, by a store that is not synchronous as a
   * whole (a two-tier store whose L1 is trusted): the value, or `undefined` when it cannot tell
   * without I/O — which is not a miss: the caller then asks `get`. Never throws (a key it
   * cannot answer for is `undefined` too). The gateway's `getValue` uses it when present.
   */
  getLocal?(key: string): V | undefined
  /**
   * `set` without a promise: written when it returns, bad input throws; optional on a store whose
   * `capabilities.synchronous` is true (the gateway's `setValueSync` needs it).
   */
  setSync?(key: string, value: V, ttl?: Ttl): void
  /** A lock on this backend; present when `capabilities.locks` is true. */
  lock?(name: string, options?: LockOptions): Lock
  /** The store's native rate-limit step; present when `capabilities.rateLimits` is true. */
  rateLimiter?(): RateLimitBackend
  /**
   * Asks the backend whether it may evict entries before their TTL, where that is a server
   * setting the store's options can't know (Redis: a `maxmemory` limit with a policy other than
   * `noeviction`). `capabilities.evicts` stays as declared; layers that must not lose a key
   * (generation counters) read this once and refuse an evicting backend.
   */
  evictionPolicy?(): Promise<{ readonly evicts: boolean }>
}

/** Closing a store through `await using`. */
export type DisposableStore<V = Uint8Array> = Store<V> & AsyncDisposable
