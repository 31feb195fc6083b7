import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  type IncrementOptions,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  namespacePrefix,
  type RateLimitBackend,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  scopedKey,
  type Ttl,
} from '@cellar/core'
import type { Cluster } from 'ioredis'
import { setCommand } from './binary-command.js'
import { clusterGetMany, clusterSetMany, clusterUnlink } from './cluster.js'
import { batchWrites, type Connection, closeConnection, openConnection } from './connection.js'
import { pipelineError, toCellarError } from './errors.js'
import { type EvictionPolicy, readEvictionPolicy } from './eviction.js'
import { RedisLockBackend } from './redis-lock.js'
import { RedisRateLimitBackend } from './redis-rate-limit.js'
import { clearPrefix, listKeys } from './scan.js'
import { INCREMENT, PERSIST, runScript } from './scripts.js'
import { storeSettings } from './store-settings.js'
import type { RedisClient, RedisStoreOptions } from './types.js'
import { fromPttl, toBuffer, toBytes, toPx } from './values.js'

/**
 * A store on Redis through ioredis (standalone, Sentinel or Cluster). Values are bytes
 * (`getBuffer`/`mgetBuffer`); counters are Redis's own decimal strings (INCRBY); each operation
 * is one round trip (per Cluster node for multi-key ones). Failures of the server or the
 * connection reject with `E_BACKEND_UNAVAILABLE`, the ioredis error as `cause`.
 */
export class RedisStore implements Store<Uint8Array>, AsyncDisposable {
  /** `'redis'`, in errors and events. */
  readonly name = 'redis'
  /** What this store can do; `persistent` and `evicts` are as declared in the options. */
  readonly capabilities: StoreCapabilities
  /** The prefix every key of this store lives under. */
  readonly prefix: string
  readonly #options: RedisStoreOptions
  readonly #connection: Connection
  readonly #client: RedisClient
  readonly #defaultTtl: Ttl
  readonly #maxKeyLength: number
  readonly #maxValueSize: number
  readonly #locks: RedisLockBackend
  // The lock prefix when `clear()` would otherwise match lock keys.
  readonly #spare: Buffer | undefined
  readonly #ownsLifecycle: boolean
  #closed = false
  static #handoff: Connection | undefined

  constructor(options: RedisStoreOptions = {}) {
    // namespace() hands its connection over through this class-private slot, read at once here.
    const shared = RedisStore.#handoff
    RedisStore.#handoff = undefined
    this.#options = options
    const settings = storeSettings(options)
    this.prefix = settings.prefix
    this.capabilities = settings.capabilities
    this.#defaultTtl = settings.defaultTtl
    this.#maxKeyLength = settings.maxKeyLength
    this.#maxValueSize = settings.maxValueSize
    this.#spare = settings.spare
    this.#ownsLifecycle = shared === undefined
    this.#connection = shared ?? openConnection(options)
    this.#client = this.#connection.client
    this.#locks = new RedisLockBackend(
      this.#connection,
      `${settings.lockPrefix}{${settings.prefix}`,
      () => this.#open(),
    )
  }

  /** The ioredis client this store runs on (shared by its namespaces). */
  get client(): RedisClient {
    return this.#client
  }

  /** GET (bytes): the value, or `undefined` on a miss. */
  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return toBytes(await this.#client.getBuffer(scopedKey(this.prefix, key)))
    } catch (error) {
      throw toCellarError(error, 'get', key)
    }
  }

  /** MGET (per slot on a Cluster): one result per key, in request order. */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    assertKeys(keys, this.#maxKeyLength)
    if (keys.length === 0) return []
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const full = keys.map((key) => scopedKey(this.prefix, key))
    try {
      const values = this.#connection.cluster
        ? await clusterGetMany(this.#client as Cluster, full, this.#connection.keyPrefix)
        : await this.#client.mgetBuffer(full)
      return values.map(toBytes)
    } catch (error) {
      throw toCellarError(error, 'getMany')
    }
  }

  /** SET with PX; a TTL `<= 0` is UNLINK. */
  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.#maxValueSize)
    const px = toPx(resolveTtl(ttl, this.#defaultTtl, key))
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const full = scopedKey(this.prefix, key)
    try {
      if (px === 0) await this.#client.unlink(full)
      else await setCommand(this.#connection, full, toBuffer(value), px, false)
    } catch (error) {
      throw toCellarError(error, 'set', key)
    }
  }

  /** MSET, or a pipeline of SET … PX (per node on a Cluster); everything is checked first. */
  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    if (!Array.isArray(entries)) {
      throw new InvalidArgumentError('[cellar:redis] setMany entries must be an array')
    }
    // Check everything before the first write: a bad entry must leave the store untouched.
    const keys: string[] = new Array(entries.length)
    const values: Buffer[] = new Array(entries.length)
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i]!
      assertKey(key, this.#maxKeyLength)
      assertBytes(value, key, this.#maxValueSize)
      keys[i] = scopedKey(this.prefix, key)
      values[i] = toBuffer(value)
    }
    const px = toPx(resolveTtl(ttl, this.#defaultTtl))
    if (entries.length === 0) return
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      if (px === 0) await this.#unlink(keys)
      else if (this.#connection.cluster) {
        await clusterSetMany(this.#client as Cluster, keys, values, px, this.#connection.keyPrefix)
      } else if (px === null) {
        await this.#client.mset(keys.flatMap((key, i) => [key, values[i]!]))
      } else {
        const pipeline = this.#client.pipeline()
        for (let i = 0; i < keys.length; i++) pipeline.set(keys[i]!, values[i]!, 'PX', px)
        const error = pipelineError(await pipeline.exec())
        if (error !== undefined) throw error
      }
    } catch (error) {
      throw toCellarError(error, 'setMany')
    }
  }

  /** SET NX with PX: resolves true if it wrote. */
  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.#maxValueSize)
    const px = toPx(resolveTtl(ttl, this.#defaultTtl, key))
    // An entry that is expired on arrival is never visible, so there is nothing to write.
    if (px === 0) return false
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      const full = scopedKey(this.prefix, key)
      return (await setCommand(this.#connection, full, toBuffer(value), px, true)) !== null
    } catch (error) {
      throw toCellarError(error, 'add', key)
    }
  }

  /** EXISTS: resolves true if the key holds a live entry. */
  async has(key: string): Promise<boolean> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return (await this.#client.exists(scopedKey(this.prefix, key))) === 1
    } catch (error) {
      throw toCellarError(error, 'has', key)
    }
  }

  /** UNLINK: resolves true if a key was removed. */
  async delete(key: string): Promise<boolean> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return (await this.#client.unlink(scopedKey(this.prefix, key))) > 0
    } catch (error) {
      throw toCellarError(error, 'delete', key)
    }
  }

  /** UNLINK (per slot on a Cluster): resolves how many keys were removed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys, this.#maxKeyLength)
    if (keys.length === 0) return 0
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return await this.#unlink(keys.map((key) => scopedKey(this.prefix, key)))
    } catch (error) {
      throw toCellarError(error, 'deleteMany')
    }
  }

  /**
   * One script: INCRBY, plus PEXPIRE when this call created the key; a result outside the
   * safe-integer range is undone in the same script and refused with `E_NOT_A_NUMBER`.
   */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const px = toPx(resolveTtl(options?.ttl, this.#defaultTtl, key))
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const args = [scopedKey(this.prefix, key), String(delta), px === null ? '' : String(px)]
    try {
      return Number(await runScript(this.#client, INCREMENT, 1, args))
    } catch (error) {
      throw toCellarError(error, 'increment', key)
    }
  }

  /** PEXPIRE (PERSIST for `null`) on a live key; a TTL `<= 0` is UNLINK. Resolves whether it existed. */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const px = toPx(resolveTtl(ttl, null, key))
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const full = scopedKey(this.prefix, key)
    try {
      if (px === 0) return (await this.#client.unlink(full)) > 0
      if (px === null) return (await runScript(this.#client, PERSIST, 1, [full])) === 1
      return (await this.#client.pexpire(full, px)) === 1
    } catch (error) {
      throw toCellarError(error, 'touch', key)
    }
  }

  /** PTTL in milliseconds: `null` without expiry, `undefined` for a missing key. */
  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return fromPttl(await this.#client.pttl(scopedKey(this.prefix, key)))
    } catch (error) {
      throw toCellarError(error, 'ttl', key)
    }
  }

  /**
   * This namespace's keys: SCAN MATCH on every master, plain keys only (never a nested
   * namespace's, never a lock), each once.
   */
  async *keys(): AsyncGenerator<string> {
    this.#open()
    if (this.#connection.warming !== undefined) await this.#connection.warming
    const keys = listKeys(this.#connection, this.prefix, this.#spare)
    for (;;) {
      let next: IteratorResult<string>
      try {
        this.#open()
        next = await keys.next()
      } catch (error) {
        throw toCellarError(error, 'keys')
      }
      if (next.done) return
      yield next.value
    }
  }

  /**
   * Reads `maxmemory` and `maxmemory-policy` (CONFIG GET, on every master): whether the server
   * may evict keys before their TTL, to compare with the `evicts` you declared.
   */
  async evictionPolicy(): Promise<EvictionPolicy> {
    this.#open()
    if (this.#connection.warming !== undefined) await this.#connection.warming
    try {
      return await readEvictionPolicy(this.#connection)
    } catch (error) {
      throw toCellarError(error, 'evictionPolicy')
    }
  }

  /** SCAN MATCH `<prefix>*` on every master plus batched UNLINK; locks are never removed. */
  async clear(): Promise<void> {
    this.#open()
    if (this.#connection.warming !== undefined) await this.#connection.warming
    try {
      await clearPrefix(this.#connection, this.prefix, this.#spare)
    } catch (error) {
      throw toCellarError(error, 'clear')
    }
  }

  /**
   * A store sharing this one's connection whose keys (and lock names) live under core's
   * `namespacePrefix(prefix, name)`: no plain key of this store and no sibling can reach them.
   */
  namespace(name: string): RedisStore {
    this.#open()
    const prefix = namespacePrefix(this.prefix, name)
    const { connection: _, ...rest } = this.#options
    RedisStore.#handoff = this.#connection
    try {
      return new RedisStore({ ...rest, prefix })
    } finally {
      RedisStore.#handoff = undefined
    }
  }

  /** A lock held in Redis (holder and fencing counter under `lockPrefix`; see the README). */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#locks, name, options)
  }

  /** The native limiter step: one Lua script per decision, on the server's clock. */
  rateLimiter(): RateLimitBackend {
    this.#open()
    return new RedisRateLimitBackend(
      this.#client,
      this.prefix,
      () => this.#open(),
      this.#maxKeyLength,
    )
  }

  /**
   * Closes this store. The root store also quits the client it created (a client you passed
   * stays open), and its namespaces and every lock handle refuse calls afterwards; closing a
   * namespace releases nothing shared.
   */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsLifecycle) await closeConnection(this.#connection)
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #unlink(keys: string[]): Promise<number> {
    if (this.#connection.cluster) {
      return clusterUnlink(this.#client as Cluster, keys, this.#connection.keyPrefix)
    }
    return this.#client.unlink(keys)
  }

  #batch(): void {
    const connection = this.#connection
    if (connection.cork) batchWrites(connection)
  }

  #open(): void {
    if (this.#closed || this.#connection.closed) {
      throw new StoreClosedError('[cellar:redis] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key, this.#maxKeyLength)
  }
}
