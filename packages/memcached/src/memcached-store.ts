import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  type IncrementOptions,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  type RateLimitBackend,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import type { Client, Response } from 'memjs'
import { endOf, toExpiry } from './expiry.js'
import { Generations } from './generations.js'
import { assertPrefix, type Head, KeySpace } from './keys.js'
import { MemcachedLockBackend } from './memcached-lock.js'
import { MemcachedRateLimitBackend } from './memcached-rate-limit.js'
import { createShared, type Shared } from './shared.js'
import { readForSwap } from './swap-read.js'
import type { MemcachedStoreOptions } from './types.js'
import { fromStored, toStored } from './values.js'
import { ONCE, Op, Status, storeExtras, unavailable, unexpected, type Wire } from './wire.js'

const TOUCH_ATTEMPTS = 50

interface Handoff {
  readonly shared: Shared
  readonly space: KeySpace
}

function flagsOf(response: Response): number {
  return response.extras.length >= 4 ? response.extras.readUInt32BE(0) : 0
}

/**
 * A memcached store on memjs. Long or non-ASCII keys are hashed, TTLs are whole seconds
 * (rounded up), `clear()` starts a new generation of this store's keys, and `increment` is
 * atomic across processes, negative values included.
 */
export class MemcachedStore implements Store<Uint8Array> {
  /** `'memcached'`, for errors and events. */
  readonly name = 'memcached'
  /** Atomic counters and add, locks, shared, not persistent, evicts; TTLs in whole seconds. */
  readonly capabilities: StoreCapabilities
  // namespace() hands its connection over through this class-private slot, emptied at once.
  static #handoff: Handoff | undefined
  readonly #shared: Shared
  readonly #space: KeySpace
  readonly #gens: Generations
  readonly #locks: MemcachedLockBackend
  readonly #ownsShared: boolean
  #closed = false

  constructor(options: MemcachedStoreOptions = {}) {
    const handed = MemcachedStore.#handoff
    MemcachedStore.#handoff = undefined
    if (handed === undefined) {
      const prefix = options.prefix ?? ''
      assertPrefix(prefix)
      this.#shared = createShared(options)
      this.#space = new KeySpace(prefix)
    } else {
      this.#shared = handed.shared
      this.#space = handed.space
    }
    this.#ownsShared = handed === undefined
    this.capabilities = Object.freeze({ ...this.#shared.capabilities, rateLimits: true })
    this.#gens = new Generations(this.#shared.wire, this.#space, this.#shared.generationTtl)
    this.#locks = new MemcachedLockBackend(this.#shared.wire, this.#space, () => this.#open())
  }

  /** The prefix given to the root store (namespaces add their names below it). */
  get prefix(): string {
    return this.#space.prefix
  }

  /** The memjs client (given or created); for what the store does not wrap, like stats. */
  get client(): Client {
    return this.#shared.wire.client
  }

  /** Resolves the stored bytes, or `undefined` on a miss. */
  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    return this.#run(async (head) => {
      const response = await this.#wire.send(Op.GET, head.key(key), key)
      return this.#found(response, key) ? fromStored(response.val) : undefined
    })
  }

  /** One pipelined multi-get per server; `undefined` for each miss, in request order. */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    assertKeys(keys)
    if (keys.length === 0) return []
    return this.#run(async (head) => {
      const mcKeys = keys.map((key) => head.key(key))
      const hits = await this.#wire.getMulti(mcKeys)
      return mcKeys.map((mcKey) => {
        const hit = hits.get(mcKey)
        return hit === undefined ? undefined : fromStored(hit.val)
      })
    })
  }

  /** Writes the bytes (SET); a TTL `<= 0` deletes the key instead. */
  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#shared.defaultTtl, key)
    await this.#run((head) => this.#write(head, key, value, ms))
  }

  /** Writes every entry with the same TTL; the requests of one call leave together. */
  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    if (!Array.isArray(entries)) {
      throw new InvalidArgumentError('[cellar:memcached] setMany takes an array of [key, value]')
    }
    // Check everything before the first write: a bad entry must leave the store untouched.
    for (const [key, value] of entries) {
      assertKey(key)
      assertBytes(value, key, this.capabilities.maxValueSize)
    }
    const ms = resolveTtl(ttl, this.#shared.defaultTtl)
    if (entries.length === 0) return
    await this.#run(async (head) => {
      await Promise.all(entries.map(([key, value]) => this.#write(head, key, value, ms)))
    })
  }

  /** Writes only if the key is absent (ADD, atomic); resolves whether it wrote. */
  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#shared.defaultTtl, key)
    // An already-expired entry is never visible, so writing it would change nothing.
    if (ms !== null && ms <= 0) return false
    const { flags, exptime } = toExpiry(ms)
    return this.#run(async (head) => {
      const extras = storeExtras(flags, exptime)
      const stored = toStored(value)
      const response = await this.#wire.send(
        Op.ADD,
        head.key(key),
        key,
        extras,
        stored,
        undefined,
        ONCE,
      )
      const { status } = response.header
      if (status === Status.OK) return true
      if (status === Status.EXISTS || status === Status.NOT_STORED) return false
      throw unexpected(response, key)
    })
  }

  /** Resolves true if the key holds a live entry. */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined
  }

  /** Resolves true if a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return this.#run((head) => this.#remove(head, key))
  }

  /** Resolves how many distinct keys held a live entry and were removed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    if (keys.length === 0) return 0
    return this.#run(async (head) => {
      const removed = await Promise.all([...new Set(keys)].map((key) => this.#remove(head, key)))
      return removed.filter(Boolean).length
    })
  }

  /**
   * Adds `delta` atomically across processes and resolves the new value. A missing key is
   * created with `options.ttl` (else the default TTL) in the same step: INCR with an initial
   * value without a TTL, ADD with its expiry otherwise. A result past `Number.MAX_SAFE_INTEGER`
   * throws `E_NOT_A_NUMBER` after taking the delta back out (memcached applies it first; see
   * the README).
   */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = resolveTtl(options?.ttl, this.#shared.defaultTtl, key)
    return this.#run((head) => this.#shared.counters.increment(head.key(key), key, delta, ms))
  }

  /**
   * Replaces a live entry's TTL; resolves whether it did. A rewrite with the item's CAS (not
   * memcached's TOUCH, which can't update the end second kept in the flags), so it never revives
   * an expired entry nor overwrites a concurrent write. A TTL `<= 0` deletes the entry.
   */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, this.#shared.defaultTtl, key)
    if (ms !== null && ms <= 0) return this.delete(key)
    return this.#run((head) => this.#retouch(head.key(key), key, ms))
  }

  /**
   * The remaining lifetime in ms, from the end the store keeps in every item's flags (to a
   * quarter second, never later than the TTL written; memcached itself keeps the item up to a
   * second or two longer, and 1 is reported meanwhile), `null` without expiry, `undefined` for
   * a missing key.
   */
  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    return this.#run(async (head) => {
      const response = await this.#wire.send(Op.GET, head.key(key), key)
      if (!this.#found(response, key)) return undefined
      const end = endOf(flagsOf(response))
      return end === null ? null : Math.max(1, end - Date.now())
    })
  }

  /**
   * Starts a new generation of this store's keys (and its namespaces'): old entries become
   * unreachable at once, in every process, and age out of memcached. Locks are not cleared.
   */
  async clear(): Promise<void> {
    this.#open()
    await this.#gens.bump()
  }

  /**
   * Empties every server this store's client talks to (`flush_all`), every application's keys
   * included. Only for servers this application owns alone; `clear()` is the scoped way.
   */
  async flushAll(): Promise<void> {
    this.#open()
    try {
      await this.#wire.client.flush()
    } catch (error) {
      throw unavailable('flush_all', undefined, error)
    }
  }

  /** A store sharing this one's connection whose keys live under the namespace `name`. */
  namespace(name: string): MemcachedStore {
    this.#open()
    MemcachedStore.#handoff = { shared: this.#shared, space: this.#space.child(name) }
    return new MemcachedStore()
  }

  /** A lock held in memcached; `clear()` does not release it. Refuses once the store closed. */
  lock(name: string, options?: LockOptions): Lock {
    return new Lock(this.#locks, name, options)
  }

  /**
   * The native limiter step: one item per key under this store's generation (so `clear()`
   * forgets it), decided by GET + CAS write on this process's clock (see the README).
   */
  rateLimiter(): RateLimitBackend {
    return new MemcachedRateLimitBackend(
      this.#wire,
      (op) => this.#run(op),
      () => this.#open(),
    )
  }

  /**
   * Closes this store. The root store also closes the client it created (never a given one),
   * and its namespaces and every lock handle refuse calls after it; closing a namespace
   * releases nothing shared.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#ownsShared) return
    this.#shared.closed = true
    this.#shared.wire.close()
    if (this.#shared.ownsClient) this.#shared.wire.client.close()
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  get #wire(): Wire {
    return this.#shared.wire
  }

  /**
   * Runs `op` with the last known generations while reading the current ones in parallel; if a
   * `clear()` (here or in another process) changed them, `op` runs again with the new ones. The
   * first run then only touched keys no one can read any more.
   */
  async #run<T>(op: (head: Head) => Promise<T>): Promise<T> {
    const gens = this.#gens
    const cached = gens.current
    if (cached === undefined) return op(await gens.fresh())
    if (gens.trusted) return op(cached)
    const fresh = gens.fresh()
    let value: T | undefined
    let failure: { error: unknown } | undefined
    try {
      value = await op(cached)
    } catch (error) {
      failure = { error }
    }
    const latest = await fresh
    if (latest !== cached) return op(latest)
    if (failure !== undefined) throw failure.error
    return value as T
  }

  async #write(head: Head, key: string, value: Uint8Array, ms: number | null): Promise<void> {
    if (ms !== null && ms <= 0) {
      await this.#remove(head, key)
      return
    }
    const { flags, exptime } = toExpiry(ms)
    const extras = storeExtras(flags, exptime)
    const response = await this.#wire.send(Op.SET, head.key(key), key, extras, toStored(value))
    if (response.header.status !== Status.OK) throw unexpected(response, key)
  }

  async #remove(head: Head, key: string): Promise<boolean> {
    const response = await this.#wire.send(Op.DELETE, head.key(key), key)
    if (response.header.status === Status.OK) return true
    if (response.header.status === Status.NOT_FOUND) return false
    throw unexpected(response, key)
  }

  async #retouch(mcKey: string, key: string, ms: number | null): Promise<boolean> {
    for (let attempt = 0; attempt < TOUCH_ATTEMPTS; attempt++) {
      // A counter's native INCR can race the read (see readForSwap).
      const read = await readForSwap(this.#wire, mcKey, key)
      if (!this.#found(read, key)) return false
      const { flags, exptime } = toExpiry(ms)
      const extras = storeExtras(flags, exptime)
      const cas = read.header.cas
      // The stored bytes as they are (escaped or not): only the expiry changes.
      const written = await this.#wire.send(Op.SET, mcKey, key, extras, read.val, cas, ONCE)
      const { status } = written.header
      if (status === Status.OK) return true
      if (status === Status.NOT_FOUND) return false
      if (status !== Status.EXISTS) throw unexpected(written, key)
    }
    throw unavailable(
      'touch',
      key,
      new Error(`the entry kept changing under ${TOUCH_ATTEMPTS} tries`),
    )
  }

  #found(response: Response, key: string): boolean {
    if (response.header.status === Status.OK) return true
    if (response.header.status === Status.NOT_FOUND) return false
    throw unexpected(response, key)
  }

  #open(): void {
    if (this.#closed || this.#shared.closed) {
      throw new StoreClosedError('[cellar:memcached] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
