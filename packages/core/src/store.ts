import type { Ttl } from './duration.js'
import type { Lock, LockOptions } from './lock.js'

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
  /** `getSync` is available: the store answers in-process, without a promise. */
  readonly synchronous?: boolean
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
   * Adds `delta` (an integer, default 1) and resolves the new value; a missing key starts at 0
   * and is kept without expiry; an existing key keeps its TTL. Throws `E_NOT_A_NUMBER` if the
   * stored value is not an integer counter, leaving it unchanged.
   */
  increment(key: string, delta?: number): Promise<number>
  /** Removes every entry under this store's own prefix/namespace, and nothing else. */
  clear(): Promise<void>
  /** A store over the same backend and connection whose keys live under `name`. */
  namespace(name: string): Store<V>
  /** Releases what the store holds (timers, connections it created). Idempotent. */
  close(): Promise<void>
  /** `get` without a promise; present when `capabilities.synchronous` is true. */
  getSync?(key: string): V | undefined
  /** A lock on this backend; present when `capabilities.locks` is true. */
  lock?(name: string, options?: LockOptions): Lock
}

/** Closing a store through `await using`. */
export type DisposableStore<V = Uint8Array> = Store<V> & AsyncDisposable
