import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import type { Cluster, Redis } from 'ioredis'
import { sendBinary } from './binary-command.js'
import { clearPrefix } from './clear.js'
import { clusterGetMany, clusterSetMany, clusterUnlink } from './cluster.js'
import { batchWrites, type Connection, closeConnection, openConnection } from './connection.js'
import { pipelineError, toCellarError } from './errors.js'
import { RedisLockBackend } from './redis-lock.js'
import type { RedisClient, RedisStoreOptions } from './types.js'

const REDIS_MAX_STRING = 512 * 1024 * 1024
// PX past this would overflow Redis's expiry arithmetic; such a TTL is "forever" in practice.
const MAX_PX = Number.MAX_SAFE_INTEGER

// namespace() hands its connection to the constructor through this slot (read synchronously)
// so the public constructor takes only options.
let adopted: Connection | undefined

/** PX for a resolved TTL: `null` = no expiry, `0` = already expired; 0 < ms < 1 becomes 1. */
function toPx(ms: number | null): number | null {
  if (ms === null || ms > MAX_PX) return null
  if (ms <= 0) return 0
  return Math.ceil(ms)
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** A plain Uint8Array view of a reply (no copy): callers compare and type-check bytes as bytes. */
function toBytes(value: Buffer | null): Uint8Array | undefined {
  return value === null ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.length)
}

function positive(name: string, value: number): number {
  if (!(value > 0) || (value !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(value))) {
    throw new InvalidArgumentError(
      `[cellar:redis] ${name} must be a positive integer or Infinity, got ${String(value)}`,
    )
  }
  return value
}

/**
 * A store on Redis through ioredis (standalone, Sentinel or Cluster). Values are bytes
 * (`getBuffer`/`mgetBuffer`); counters are Redis's own decimal strings (INCRBY); each operation
 * is one round trip (per Cluster node for multi-key ones). Failures of the server or the
 * connection reject with `E_BACKEND_UNAVAILABLE`, the ioredis error as `cause`.
 */
export class RedisStore implements Store<Uint8Array>, AsyncDisposable {
  readonly name = 'redis'
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

  constructor(options: RedisStoreOptions = {}) {
    const shared = adopted
    adopted = undefined
    this.#options = options
    const prefix = options.prefix ?? 'cellar:'
    const lockPrefix = options.lockPrefix ?? 'cellar-lock:'
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`[cellar:redis] prefix must be a string, got ${typeof prefix}`)
    }
    if (typeof lockPrefix !== 'string' || lockPrefix.length === 0) {
      throw new InvalidArgumentError('[cellar:redis] lockPrefix must be a non-empty string')
    }
    this.prefix = prefix
    this.#defaultTtl = options.defaultTtl ?? null
    resolveTtl(this.#defaultTtl) // refuse a bad default up front
    this.#maxKeyLength = positive('maxKeyLength', options.maxKeyLength ?? Number.POSITIVE_INFINITY)
    this.#maxValueSize = positive('maxValueSize', options.maxValueSize ?? REDIS_MAX_STRING)
    this.capabilities = Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: true,
      persistent: options.persistent ?? false,
      retainsValues: true,
      raw: false,
      maxKeyLength: this.#maxKeyLength,
      maxValueSize: this.#maxValueSize,
      ttlPrecision: 1,
    })
    if (prefix.startsWith(lockPrefix)) {
      throw new InvalidArgumentError(
        `[cellar:redis] prefix "${prefix}" lies inside lockPrefix "${lockPrefix}": cache keys and lock keys would mix`,
      )
    }
    this.#spare = lockPrefix.startsWith(prefix) ? Buffer.from(lockPrefix) : undefined
    this.#ownsLifecycle = shared === undefined
    this.#connection = shared ?? openConnection(options)
    this.#client = this.#connection.client
    this.#locks = new RedisLockBackend(this.#connection, `${lockPrefix}{${prefix}`, () =>
      this.#open(),
    )
  }

  /** The ioredis client this store runs on (shared by its namespaces). */
  get client(): RedisClient {
    return this.#client
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return toBytes(await this.#client.getBuffer(this.prefix + key))
    } catch (error) {
      throw toCellarError(error, 'get', key)
    }
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    assertKeys(keys, this.#maxKeyLength)
    if (keys.length === 0) return []
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const full = keys.map((key) => this.prefix + key)
    try {
      const values = this.#connection.cluster
        ? await clusterGetMany(this.#client as Cluster, full, this.#connection.keyPrefix)
        : await this.#client.mgetBuffer(full)
      return values.map(toBytes)
    } catch (error) {
      throw toCellarError(error, 'getMany')
    }
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.#maxValueSize)
    const px = toPx(resolveTtl(ttl, this.#defaultTtl, key))
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    const full = this.prefix + key
    try {
      if (px === 0) await this.#client.unlink(full)
      else await this.#setCommand(full, value, px, false)
    } catch (error) {
      throw toCellarError(error, 'set', key)
    }
  }

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
      keys[i] = this.prefix + key
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

  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.#maxValueSize)
    const px = toPx(resolveTtl(ttl, this.#defaultTtl, key))
    // An entry that is expired on arrival is never visible, so there is nothing to write.
    if (px === 0) return false
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return (await this.#setCommand(this.prefix + key, value, px, true)) !== null
    } catch (error) {
      throw toCellarError(error, 'add', key)
    }
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return (await this.#client.exists(this.prefix + key)) === 1
    } catch (error) {
      throw toCellarError(error, 'has', key)
    }
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return (await this.#client.unlink(this.prefix + key)) > 0
    } catch (error) {
      throw toCellarError(error, 'delete', key)
    }
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys, this.#maxKeyLength)
    if (keys.length === 0) return 0
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return await this.#unlink(keys.map((key) => this.prefix + key))
    } catch (error) {
      throw toCellarError(error, 'deleteMany')
    }
  }

  /** INCRBY: a missing key starts at 0 without expiry; an existing key keeps its TTL. */
  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    if (this.#connection.warming !== undefined) await this.#connection.warming
    this.#batch()
    try {
      return await this.#client.incrby(this.prefix + key, delta)
    } catch (error) {
      throw toCellarError(error, 'increment', key)
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

  /** A store sharing this one's connection, with keys (and lock names) under `<prefix><name>:`. */
  namespace(name: string): RedisStore {
    this.#open()
    assertKey(name)
    adopted = this.#connection
    const { connection: _, ...rest } = this.#options
    return new RedisStore({ ...rest, prefix: `${this.prefix}${name}:` })
  }

  /** A lock held in Redis; see `RedisLockBackend` for the keys it uses. */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#locks, name, options)
  }

  /**
   * Closes this store; the store constructed from options also quits the client it created
   * (a client you passed stays open). Namespaces are closed with the store they came from.
   */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsLifecycle) await closeConnection(this.#connection)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** SET with PX (unless `px` is null) and NX if asked; resolves OK, or null if NX found the key. */
  #setCommand(full: string, value: Uint8Array, px: number | null, nx: boolean): Promise<unknown> {
    const args: Array<string | Buffer> = [full, toBuffer(value)]
    if (px !== null) args.push('PX', `${px}`)
    if (nx) args.push('NX')
    // The direct path keeps the reply as bytes (only null or not matters). `callBuffer` would
    // too, but ioredis auto-pipelining drops its command name; `call` is handled.
    return this.#connection.direct
      ? sendBinary(this.#client as Redis, 'set', args)
      : this.#client.call('set', args)
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
