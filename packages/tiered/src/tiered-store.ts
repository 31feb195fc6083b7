import {
  assertBytes,
  assertKeys,
  type Bus,
  type Duration,
  decodeCounter,
  type IncrementOptions,
  InvalidArgumentError,
  type Lock,
  type LockOptions,
  parseDuration,
  type RateLimitBackend,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  type Ttl,
  UnsupportedError,
} from '@cellar/core'
import { Coherence } from './coherence.js'

/** Options of `new TieredStore(options)`. */
export interface TieredStoreOptions {
  /** The in-process tier: a synchronous, process-local byte store (e.g. a `MemoryStore`). */
  readonly l1: Store<Uint8Array>
  /** The shared tier every instance reads and writes (Redis, memcached, SQL...). */
  readonly l2: Store<Uint8Array>
  /**
   * The invalidation bus shared by every instance (e.g. `new RedisBus(...)`); `null` only for a
   * single instance, where nobody else can write.
   */
  readonly bus: Bus | null
  /**
   * Channel of this cache's messages; instances that share an L2 must share it.
   * @default 'cellar:tiered'
   */
  readonly channel?: string
  /**
   * Longest time an entry stays in L1: the bound on how old a value L1 may serve if an
   * invalidation message is lost.
   * @default '1m'
   */
  readonly l1Ttl?: Duration
}

interface Handoff {
  readonly coherence: Coherence
  readonly l1: Store<Uint8Array>
  readonly l2: Store<Uint8Array>
  readonly path: readonly string[]
}

/**
 * A `Store` of two tiers: reads are served from L1 when it holds the key and the bus is up,
 * else from L2 (filling L1); writes and deletes go to L2, then L1, then a message naming the
 * keys goes to the other instances, which drop them from their L1. Counters are never kept in
 * L1. While the bus is down L1 is cleared and bypassed.
 */
export class TieredStore implements Store<Uint8Array>, AsyncDisposable {
  static #handoff: Handoff | undefined
  /** `tiered(<l2 name>)`. */
  readonly name: string
  readonly capabilities: StoreCapabilities
  readonly #l1: Store<Uint8Array>
  readonly #l2: Store<Uint8Array>
  readonly #coherence: Coherence
  readonly #path: readonly string[]
  readonly #root: boolean
  readonly #l1TtlMs: number

  constructor(options: TieredStoreOptions) {
    const handed = TieredStore.#handoff
    TieredStore.#handoff = undefined
    if (handed !== undefined) {
      this.#l1 = handed.l1
      this.#l2 = handed.l2
      this.#coherence = handed.coherence
      this.#path = handed.path
      this.#root = false
    } else {
      const { l1, l2, bus } = options ?? ({} as TieredStoreOptions)
      if (l1 === undefined || l2 === undefined || bus === undefined) {
        throw new InvalidArgumentError(
          '[cellar:tiered] l1, l2 and bus are required (bus: null for a single instance)',
        )
      }
      if (l1.capabilities.sharedAcrossProcesses || l1.capabilities.synchronous !== true) {
        throw new InvalidArgumentError(
          `[cellar:tiered] l1 must be a synchronous, process-local store; ${l1.name} is not`,
        )
      }
      const l1TtlMs = parseDuration(options.l1Ttl ?? '1m', 'l1Ttl')
      if (!(l1TtlMs > 0)) {
        throw new InvalidArgumentError('[cellar:tiered] l1Ttl must be positive')
      }
      this.#l1 = l1
      this.#l2 = l2
      this.#path = []
      this.#root = true
      this.#coherence = new Coherence(bus, options.channel ?? 'cellar:tiered', l1, l1TtlMs)
    }
    this.#l1TtlMs = this.#coherence.l1TtlMs
    this.name = `tiered(${this.#l2.name})`
    const l1Caps = this.#l1.capabilities
    this.capabilities = {
      ...this.#l2.capabilities,
      raw: false,
      synchronous: false,
      maxKeyLength: Math.min(l1Caps.maxKeyLength, this.#l2.capabilities.maxKeyLength),
      maxValueSize: this.#l2.capabilities.maxValueSize,
      // Limits are shared state: decided by L2 alone, and only where L2 can decide them.
      rateLimits: this.#l2.capabilities.rateLimits === true && this.#l2.rateLimiter !== undefined,
    }
  }

  /** Starts listening on the bus; resolves once subscribed (calls wait for it on their own). */
  ready(): Promise<void> {
    return this.#coherence.ready()
  }

  /** The value from L1 when it can be trusted, else from L2 (and then kept in L1). */
  get(key: string): Promise<Uint8Array | undefined> {
    // The hot path: an L1 hit resolves without an extra await.
    const local = this.getLocal(key)
    return local !== undefined ? Promise.resolve(local) : this.#getSlow(key)
  }

  /**
   * An L1 hit without a promise, while L1 is trusted (the bus is up and subscribed); `undefined`
   * means "ask `get`", not a miss. The gateway's `getValue` reads hits through it.
   */
  getLocal(key: string): Uint8Array | undefined {
    const coherence = this.#coherence
    if (!coherence.listening || !coherence.trusted) return undefined
    try {
      return this.#l1.getSync!(key)
    } catch {
      // A bad key: `get` turns L1's refusal into a rejection.
      return undefined
    }
  }

  async #getSlow(key: string): Promise<Uint8Array | undefined> {
    await this.#coherence.ready()
    if (this.#coherence.trusted) {
      const local = this.#l1.getSync!(key)
      if (local !== undefined) return local
    }
    const epoch = this.#coherence.stamp(this.#path, key)
    const [value, ttl] = await Promise.all([this.#l2.get(key), this.#remaining(key)])
    if (value !== undefined) this.#fill(key, value, ttl, epoch)
    return value
  }

  /** `get` for many keys: L1 first, one L2 batch for the rest. */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    assertKeys(keys)
    await this.#coherence.ready()
    const trusted = this.#coherence.trusted
    const result = keys.map((key) => (trusted ? this.#l1.getSync!(key) : undefined))
    const missing = keys.filter((_, i) => result[i] === undefined)
    if (missing.length === 0) return result
    // Batch reads don't fill L1: they can't fetch each entry's remaining TTL in the same trip.
    const values = await this.#l2.getMany(missing)
    let at = 0
    for (let i = 0; i < keys.length; i++) if (result[i] === undefined) result[i] = values[at++]
    return result
  }

  /** Writes to L2, then L1, then tells the others; resolves once the message is accepted. */
  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    const epoch = this.#begin(key)
    if (this.#ordered([key], { value, ttl })) {
      // One ordered connection: the message leaves behind the write and cannot overtake it.
      const written = this.#l2.set(key, value, ttl)
      const published = this.#coherence.publish(this.#path, [key])
      await Promise.all([written.then(() => this.#keep(key, value, ttl, epoch)), published])
      return
    }
    await this.#l2.set(key, value, ttl)
    this.#keep(key, value, ttl, epoch)
    await this.#coherence.publish(this.#path, [key])
  }

  /** `set` for many entries with one TTL; one message names every key. */
  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    const epochs = entries.map(([key]) => this.#begin(key))
    await this.#l2.setMany(entries, ttl)
    entries.forEach(([key, value], i) => {
      this.#keep(key, value, ttl, epochs[i]!)
    })
    await this.#coherence.publish(
      this.#path,
      entries.map(([key]) => key),
    )
  }

  /** Writes only if L2 has no live entry (atomic where L2 is); true if it wrote. */
  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    const epoch = this.#begin(key)
    const wrote = await this.#l2.add(key, value, ttl)
    if (wrote) {
      this.#keep(key, value, ttl, epoch)
      await this.#coherence.publish(this.#path, [key])
    } else {
      await this.#l1.delete(key)
    }
    return wrote
  }

  /** True if the key holds a live entry (L1 when trusted, else L2). */
  async has(key: string): Promise<boolean> {
    await this.#coherence.ready()
    if (this.#coherence.trusted && this.#l1.getSync!(key) !== undefined) return true
    return this.#l2.has(key)
  }

  /** Removes from L2 and L1 and tells the others; true if L2 had a live entry. */
  async delete(key: string): Promise<boolean> {
    if (this.#ordered([key])) {
      const [removed] = await Promise.all([this.#l2.delete(key), this.#dropAndPublish([key])])
      return removed
    }
    const removed = await this.#l2.delete(key)
    await this.#dropAndPublish([key])
    return removed
  }

  /** `delete` for many keys; resolves how many live entries L2 removed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (this.#ordered(keys)) {
      const [count] = await Promise.all([this.#l2.deleteMany(keys), this.#dropAndPublish(keys)])
      return count
    }
    const count = await this.#l2.deleteMany(keys)
    await this.#dropAndPublish(keys)
    return count
  }

  /** L2's native counter; the key is dropped from every L1 (counters are never served from L1). */
  async increment(key: string, delta?: number, options?: IncrementOptions): Promise<number> {
    const value = await this.#l2.increment(key, delta, options)
    await this.#dropAndPublish([key])
    return value
  }

  /** Replaces the TTL in L2; every L1 drops the key (its copy had the old expiry). */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    const touched = await this.#l2.touch(key, ttl)
    await this.#dropAndPublish([key])
    return touched
  }

  /** Remaining milliseconds, from L2. */
  ttl(key: string): Promise<number | null | undefined> {
    return this.#l2.ttl(key)
  }

  /** Clears this namespace in L2 and in every instance's L1. */
  async clear(): Promise<void> {
    await this.#l2.clear()
    this.#coherence.invalidateAll()
    await this.#l1.clear()
    await this.#coherence.publishClear(this.#path)
  }

  /** A namespace of both tiers sharing this store's bus. */
  namespace(name: string): TieredStore {
    const l2 = this.#l2.namespace(name)
    TieredStore.#handoff = {
      coherence: this.#coherence,
      l1: this.#l1.namespace(name),
      l2,
      path: [...this.#path, name],
    }
    return new TieredStore(undefined as unknown as TieredStoreOptions)
  }

  /** L2's keys of this namespace (where L2 lists keys). */
  keys(): AsyncIterable<string> {
    if (this.#l2.keys === undefined) {
      throw new UnsupportedError(`[cellar:tiered] ${this.#l2.name} does not list keys`)
    }
    return this.#l2.keys()
  }

  /** A lock held in L2 (shared by every instance). */
  lock(name: string, options?: LockOptions): Lock {
    if (this.#l2.lock === undefined || !this.#l2.capabilities.locks) {
      throw new UnsupportedError(`[cellar:tiered] ${this.#l2.name} has no locks`, { key: name })
    }
    return this.#l2.lock(name, options)
  }

  /** L2's native rate limiter: a limit is shared by every instance, so L1 never decides one. */
  rateLimiter(): RateLimitBackend {
    if (this.#l2.rateLimiter === undefined || !this.capabilities.rateLimits) {
      throw new UnsupportedError(`[cellar:tiered] ${this.#l2.name} does not decide rate limits`)
    }
    return this.#l2.rateLimiter()
  }

  /** The root closes both tiers and leaves the bus (it may be shared); a namespace closes its own handles. */
  async close(): Promise<void> {
    if (this.#root) {
      await this.#coherence.close()
      await Promise.all([this.#l1.close(), this.#l2.close()])
    } else {
      await Promise.all([this.#l1.close(), this.#l2.close()])
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // This instance's L1 drops the keys (synchronous: done before the call returns) while the
  // message leaves in the same tick, not one L1 promise later.
  #dropAndPublish(keys: readonly string[]): Promise<unknown> {
    this.#coherence.invalidate(this.#path, keys)
    return Promise.all([
      keys.length === 1 ? this.#l1.delete(keys[0]!) : this.#l1.deleteMany(keys),
      this.#coherence.publish(this.#path, keys),
    ])
  }

  // Where L2 can tell the remaining TTL, fetch it with the value, so L1 never outlives L2.
  #remaining(key: string): Promise<number | null | undefined> {
    if (!this.#l2.capabilities.readsTtl) return Promise.resolve(undefined)
    return this.#l2.ttl(key).catch(() => undefined)
  }

  #fill(key: string, value: Uint8Array, ttl: number | null | undefined, epoch: number): void {
    // An invalidation (or a bus outage) since the read started may concern this very value.
    if (
      ttl === undefined ||
      !this.#coherence.trusted ||
      this.#coherence.stamp(this.#path, key) !== epoch
    )
      return
    if (decodeCounter(value) !== undefined) return
    this.#l1
      .set(key, value, ttl === null ? this.#l1TtlMs : Math.min(ttl, this.#l1TtlMs))
      .catch(() => {})
  }

  // Whether a write's message may leave with it (the bus is ordered with L2), for valid input
  // only: a call L2 will refuse sends nothing, as on the acknowledged path.
  #ordered(keys: readonly string[], write?: { value: unknown; ttl: Ttl | undefined }): boolean {
    if (!this.#coherence.orderedWith(this.#l2)) return false
    const { maxKeyLength, maxValueSize } = this.capabilities
    try {
      assertKeys(keys, maxKeyLength)
      if (write !== undefined) {
        assertBytes(write.value, keys[0]!, maxValueSize)
        if (write.ttl !== undefined) resolveTtl(write.ttl, null, keys[0])
      }
      return true
    } catch {
      return false
    }
  }

  // A write starts by moving the key's epoch, so a read already in flight (which may bring back
  // the old value) does not fill L1; the write compares the stamp it returns before keeping.
  #begin(key: string): number {
    this.#coherence.invalidate(this.#path, [key])
    return this.#coherence.stamp(this.#path, key)
  }

  // The writer's own L1 keeps what it wrote, unless another write may have landed since.
  #keep(key: string, value: Uint8Array, ttl: Ttl, epoch: number): void {
    const ms = ttl === undefined ? undefined : resolveTtl(ttl, null, key)
    const keep =
      // An omitted TTL means L2's default, which L1 can't know: the next read fills it.
      ms !== undefined &&
      (ms === null || ms > 0) &&
      this.#coherence.trusted &&
      this.#coherence.stamp(this.#path, key) === epoch &&
      decodeCounter(value) === undefined
    // Reads that started while L2 was writing may have fetched the old value: none fills L1.
    this.#coherence.invalidate(this.#path, [key])
    const done = keep
      ? this.#l1.set(key, value, ms === null ? this.#l1TtlMs : Math.min(ms, this.#l1TtlMs))
      : this.#l1.delete(key)
    done.catch(() => {})
  }
}
