import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  type Duration,
  encodeCounter,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  parseDuration,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import { LRUCache } from 'lru-cache'
import { MemoryLockBackend } from './memory-lock.js'

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
   * TTL used when a write omits one; `null` keeps entries until evicted or deleted.
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
   * The clock, in milliseconds; inject one in tests to move time by hand.
   * @default performance.now
   */
  now?: () => number
}

interface Shared {
  readonly lru: LRUCache<string, NonNullable<unknown>>
  readonly locks: MemoryLockBackend
  timer: NodeJS.Timeout | undefined
  closed: boolean
}

// lru-cache cannot hold null; raw mode stores this in its place.
const NULL = Symbol('cellar.null')
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

/**
 * An in-process LRU store (lru-cache), bounded by entry count and bytes, with millisecond TTL.
 * Byte mode (default) copies bytes in and out so cached data can't be mutated by callers;
 * raw mode keeps values by reference. `add`, `increment` and locks are atomic within the process.
 */
export class MemoryStore implements Store<unknown> {
  readonly name = 'memory'
  readonly capabilities: StoreCapabilities
  readonly #shared: Shared
  readonly #prefix: string
  readonly #raw: boolean
  readonly #defaultTtl: Ttl
  readonly #options: MemoryStoreOptions
  #closed = false
  #ownsShared = false

  constructor(options: MemoryStoreOptions = {}, shared?: Shared) {
    this.#options = options
    this.#raw = options.raw ?? false
    this.#prefix = options.prefix ?? ''
    this.#defaultTtl = options.defaultTtl ?? null
    resolveTtl(this.#defaultTtl) // refuse a bad default up front
    const maxEntries = options.maxEntries ?? 10_000
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError(`[cellar:memory] maxEntries must be a positive integer`)
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new InvalidArgumentError(`[cellar:memory] maxBytes must be a positive integer`)
    }
    const countsBytes = !this.#raw || options.sizeOf !== undefined
    const maxValueSize = countsBytes
      ? Math.min(options.maxValueSize ?? Math.floor(maxBytes / 4), maxBytes)
      : Number.POSITIVE_INFINITY
    if (!(maxValueSize > 0)) {
      throw new InvalidArgumentError(`[cellar:memory] maxValueSize must be positive`)
    }
    this.capabilities = Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: false,
      persistent: false,
      retainsValues: true,
      raw: this.#raw,
      maxKeyLength: Number.POSITIVE_INFINITY,
      maxValueSize,
      ttlPrecision: 1,
      synchronous: true,
    })
    this.#shared = shared ?? this.#createShared(maxEntries, maxBytes, countsBytes)
  }

  async get(key: string): Promise<unknown> {
    return this.getSync(key)
  }

  /** `get` without a promise (this store answers in-process). */
  getSync(key: string): unknown {
    this.#check(key)
    return this.#out(this.#shared.lru.get(this.#prefix + key))
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    this.#open()
    assertKeys(keys)
    const { lru } = this.#shared
    return keys.map((key) => this.#out(lru.get(this.#prefix + key)))
  }

  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    this.#check(key)
    this.#write(key, this.#in(key, value), resolveTtl(ttl, this.#defaultTtl, key))
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    this.#open()
    // Check everything before the first write: a bad entry must leave the store untouched.
    const ms = resolveTtl(ttl, this.#defaultTtl)
    const prepared = entries.map(([key, value]) => {
      assertKey(key)
      return [key, this.#in(key, value)] as const
    })
    for (const [key, value] of prepared) this.#write(key, value, ms)
  }

  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    const stored = this.#in(key, value)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    if (this.#shared.lru.has(this.#prefix + key)) return false
    this.#write(key, stored, ms)
    return ms === null || ms > 0
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return this.#shared.lru.has(this.#prefix + key)
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return this.#shared.lru.delete(this.#prefix + key)
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    let removed = 0
    for (const key of keys) if (this.#shared.lru.delete(this.#prefix + key)) removed++
    return removed
  }

  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const { lru } = this.#shared
    const full = this.#prefix + key
    const current = lru.get(full)
    const next = (current === undefined ? 0 : requireCounter(current, key)) + delta
    if (!Number.isSafeInteger(next)) {
      throw new InvalidArgumentError(`[cellar:memory] counter "${key}" would overflow`, { key })
    }
    // noUpdateTTL keeps the remaining lifetime of an existing counter.
    lru.set(full, this.#raw ? next : encodeCounter(next), { noUpdateTTL: current !== undefined })
    return next
  }

  async clear(): Promise<void> {
    this.#open()
    const { lru } = this.#shared
    if (this.#prefix === '') return lru.clear()
    for (const key of [...lru.keys()]) if (key.startsWith(this.#prefix)) lru.delete(key)
  }

  /** A store sharing this one's LRU, locks and timer, with keys under `<prefix><name>:`. */
  namespace(name: string): MemoryStore {
    assertKey(name)
    const options = { ...this.#options, prefix: `${this.#prefix}${name}:` }
    return new MemoryStore(options, this.#shared)
  }

  /** A process-local lock; names live under this store's prefix. */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#shared.locks, this.#prefix + name, options)
  }

  /** Closes this store; the store that created the LRU also stops the sweep and empties it. */
  async close(): Promise<void> {
    this.#closed = true
    if (!this.#ownsShared) return
    clearInterval(this.#shared.timer)
    this.#shared.timer = undefined
    this.#shared.closed = true
    this.#shared.lru.clear()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #createShared(max: number, maxSize: number, countsBytes: boolean): Shared {
    this.#ownsShared = true
    const now = this.#options.now ?? (() => performance.now())
    const sizeOf = this.#options.sizeOf
    const lru = new LRUCache<string, NonNullable<unknown>>({
      max,
      ...(countsBytes && {
        maxSize,
        sizeCalculation: (value: unknown, key: string) =>
          key.length + (sizeOf === undefined ? (value as Uint8Array).byteLength : sizeOf(value)) ||
          1,
      }),
      ttlResolution: 0,
      perf: { now },
    })
    const shared: Shared = {
      lru,
      locks: new MemoryLockBackend(now),
      timer: undefined,
      closed: false,
    }
    const every = this.#options.pruneInterval ?? 60_000
    if (every !== false) {
      const ms = parseDuration(every, 'pruneInterval')
      shared.timer = setInterval(() => lru.purgeStale(), ms)
      shared.timer.unref()
    }
    return shared
  }

  #write(key: string, value: NonNullable<unknown>, ms: number | null): void {
    const full = this.#prefix + key
    if (ms !== null && ms <= 0) {
      this.#shared.lru.delete(full)
      return
    }
    this.#shared.lru.set(full, value, { ttl: ms === null ? 0 : Math.max(1, ms) })
  }

  #in(key: string, value: unknown): NonNullable<unknown> {
    if (this.#raw) {
      if (value === undefined) {
        throw new InvalidArgumentError(
          `[cellar:memory] value for key "${key}" must not be undefined; a miss reads as undefined`,
          { key },
        )
      }
      if (value === null) return NULL
      const size = this.#options.sizeOf?.(value)
      if (size !== undefined && size > this.capabilities.maxValueSize) {
        throw new InvalidArgumentError(
          `[cellar:memory] value for key "${key}" is ${size} bytes; this store allows at most ${this.capabilities.maxValueSize}`,
          { key, code: 'E_VALUE_TOO_LARGE' },
        )
      }
      return value
    }
    assertBytes(value, key, this.capabilities.maxValueSize)
    return value.slice()
  }

  #out(value: unknown): unknown {
    if (value === undefined) return undefined
    if (this.#raw) return value === NULL ? null : value
    // Buffer.from copies small values into Node's pooled slab, far cheaper than slice()'s fresh
    // ArrayBuffer; the plain Uint8Array view keeps decoders from handing back Buffers.
    const copy = Buffer.from(value as Uint8Array)
    return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength)
  }

  #open(): void {
    if (this.#closed || this.#shared.closed) {
      throw new StoreClosedError('[cellar:memory] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
