import type { Duration, Lock, LockOptions, RateLimitBackend, Store, Ttl } from '@cellar/core'
import { MemoryStore as LruStore } from './lru-store.js'

export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used is evicted past it.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * Most bytes kept (values plus keys). Byte mode always counts; raw mode counts only with `sizeOf`.
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number
  /**
   * Largest single value accepted; larger writes throw `E_VALUE_TOO_LARGE`.
   * @default maxBytes / 4
   */
  maxValueSize?: number
  /**
   * Keep values by reference instead of as bytes: fastest, but callers share (and can mutate)
   * cached objects. The gateway skips serialization for raw stores.
   * @default false
   */
  raw?: boolean
  /** Raw mode only: the size of a value in bytes, to enforce `maxBytes`. */
  sizeOf?: (value: unknown) => number
  /**
   * TTL used when a write (or the increment that creates a counter) omits one; `null` keeps
   * entries until evicted or deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * Every key of this store is stored under this prefix.
   * @default ''
   */
  prefix?: string
  /**
   * How often expired entries are swept (they are also dropped lazily on read); `false` disables.
   * @default 60_000
   */
  pruneInterval?: Duration | false
  /**
   * The clock, in milliseconds; inject one in tests to move time by hand. An injected clock is
   * read on every expiry check (`ttlPrecision` 1); the default one is reused by reads for up to
   * about a millisecond (`ttlPrecision` 2, see the README's caveats).
   * @default performance.now
   */
  now?: () => number
}

/**
 * An in-process LRU store: a `Store<Uint8Array>` in byte mode (the default), a `Store<unknown>`
 * in raw mode. Answers reads and writes synchronously too (`getSync`, `setSync`) and lists its
 * keys.
 */
export interface MemoryStore<V = Uint8Array> extends Store<V>, AsyncDisposable {
  /** `get` without a promise: the value, or `undefined` on a miss or an expired entry. */
  getSync(key: string): V | undefined
  /**
   * A settled promise of `read(value)` (of `undefined` on a miss); raw mode hands the same one
   * out again, for the same `read`, until the entry is written or removed (core's `getSettled`).
   */
  getSettled(key: string, read: (value: V) => unknown): Promise<unknown>
  /** `set` without a promise: written when it returns; bad input throws, writing nothing. */
  setSync(key: string, value: V, ttl?: Ttl): void
  /** The live keys of this namespace (not of nested namespaces), unscoped. */
  keys(): AsyncIterable<string>
  /** A process-local lock; names are scoped to this namespace. */
  lock(name: string, options?: LockOptions): Lock
  /** The native limiter step, process-local and atomic, on this store's clock. */
  rateLimiter(): RateLimitBackend
  /** A store sharing this one's LRU, locks and sweep, whose keys cannot alias this one's. */
  namespace(name: string): MemoryStore<V>
}

/** `new MemoryStore(options)`: `raw: true` makes a `Store<unknown>`, otherwise bytes. */
export interface MemoryStoreConstructor {
  new (options: MemoryStoreOptions & { readonly raw: true }): MemoryStore<unknown>
  new (options?: MemoryStoreOptions & { readonly raw?: false }): MemoryStore<Uint8Array>
  new (options?: MemoryStoreOptions): MemoryStore<Uint8Array> | MemoryStore<unknown>
  readonly prototype: MemoryStore<unknown>
}

/**
 * An in-process LRU store (lru-cache), bounded by entry count and bytes, with millisecond TTL.
 * Byte mode (default) copies bytes in and out so cached data can't be mutated by callers;
 * raw mode keeps values by reference. `add`, `increment` and locks are atomic within the process.
 */
export const MemoryStore: MemoryStoreConstructor = LruStore
