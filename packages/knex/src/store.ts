import {
  addToCounter,
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  type IncrementOptions,
  InvalidArgumentError,
  InvalidKeyError,
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
  unscopedKey,
  utf8Length,
} from '@cellar/core'
import { deleteStored, readMany, storedKeys, writeMany } from './batch.js'
import { type Context, capabilitiesOf, createContext } from './context.js'
import { backendError } from './errors.js'
import { KnexRateLimitBackend } from './knex-rate-limit.js'
import { KnexLockBackend } from './lock.js'
import { DEFAULT_TABLE, expiryOf, prefixBound, toBuffer, toBytes, toNumber } from './sql.js'
import type { KnexStoreOptions } from './types.js'

const NAME = 'knex'
// Owner tokens are stored in a VARBINARY(255) column on MySQL; the same limit holds everywhere.
const MAX_OWNER_BYTES = 255

/**
 * A cache store in one SQL table over the application's knex instance (SQLite via
 * better-sqlite3, PostgreSQL via pg, MySQL/MariaDB via mysql2), with atomic `add` and
 * `increment` and fenced locks in a second table. Expiry follows the application's clock.
 */
export class KnexStore implements Store<Uint8Array>, AsyncDisposable {
  readonly name = NAME
  readonly capabilities: StoreCapabilities
  // namespace() hands the root's shared state to the new store through this slot; the
  // constructor empties it at once, so constructors take public options only.
  static #handoff: Context | undefined
  readonly #ctx: Context
  readonly #options: KnexStoreOptions
  readonly #prefix: string
  readonly #defaultTtl: Ttl
  readonly #maxKeyLength: number
  readonly #locks: KnexLockBackend
  readonly #root: boolean
  #closed = false

  constructor(options: KnexStoreOptions) {
    const handed = KnexStore.#handoff
    KnexStore.#handoff = undefined
    if (options === null || typeof options !== 'object' || options.knex === undefined) {
      throw new InvalidArgumentError(
        '[cellar:knex] options.knex is required: a knex instance or a knex config',
      )
    }
    this.#options = options
    this.#prefix = options.prefix ?? ''
    if (typeof this.#prefix !== 'string') {
      throw new InvalidArgumentError('[cellar:knex] prefix must be a string')
    }
    // A lone surrogate reaches the database as U+FFFD: two prefixes would share their rows.
    if (!this.#prefix.isWellFormed()) {
      throw new InvalidArgumentError(
        `[cellar:knex] prefix ${JSON.stringify(this.#prefix)} has a lone UTF-16 surrogate; it must be well-formed text`,
      )
    }
    this.#defaultTtl = options.defaultTtl ?? null
    resolveTtl(this.#defaultTtl) // refuse a bad default up front
    this.#root = handed === undefined
    this.#ctx = handed ?? createContext(options)
    try {
      const declared = capabilitiesOf(this.#ctx, this.#prefix, options.maxValueSize)
      this.capabilities = Object.freeze({ ...declared, rateLimits: true })
    } catch (error) {
      if (this.#root) void this.#ctx.close()
      throw error
    }
    this.#maxKeyLength = this.capabilities.maxKeyLength
    this.#locks = new KnexLockBackend(this.#ctx, this.#prefix, () => this.#open())
  }

  /** The prefix every key of this store is stored under (core's `scopedKey`). */
  get prefix(): string {
    return this.#prefix
  }

  /** The cache table this store writes (as configured, unquoted). */
  get tableName(): string {
    return this.#options.tableName ?? DEFAULT_TABLE
  }

  /** The dialect in use: `'sqlite'`, `'pg'` or `'mysql'`. */
  get dialect(): string {
    return this.#ctx.dialect.name
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    // The hot path: no closure, one await on the statement.
    const ctx = this.#ctx
    try {
      if (!ctx.ready) await ctx.init()
      const result = await ctx.exec(ctx.sql.get, [scopedKey(this.#prefix, key), ctx.now()])
      const row = ctx.dialect.rows(result)[0]
      return row === undefined ? undefined : toBytes(row.value)
    } catch (error) {
      throw backendError('get', error, key)
    }
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    this.#keys(keys)
    if (keys.length === 0) return []
    const stored = [...new Set(keys)].map((key) => scopedKey(this.#prefix, key))
    const found = await readMany(this.#ctx, stored)
    return keys.map((key) => found.get(scopedKey(this.#prefix, key)))
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    const ctx = this.#ctx
    const stored = scopedKey(this.#prefix, key)
    try {
      if (!ctx.ready) await ctx.init()
      if (ms !== null && ms <= 0) await ctx.exec(ctx.sql.deleteAny(1), [stored])
      else await ctx.exec(ctx.sql.upsert(1), [stored, toBuffer(value), expiryOf(ctx.now(), ms)])
    } catch (error) {
      throw backendError('set', error, key)
    }
  }

  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    if (!Array.isArray(entries)) {
      throw new InvalidArgumentError(
        '[cellar:knex] setMany entries must be an array of [key, value]',
      )
    }
    // Everything is checked before the first write; the last value of a repeated key wins
    // (PostgreSQL refuses one upsert touching a row twice).
    const ms = resolveTtl(ttl, this.#defaultTtl)
    const latest = new Map<string, Buffer>()
    for (const [key, value] of entries) {
      this.#key(key)
      assertBytes(value, key, this.capabilities.maxValueSize)
      latest.set(scopedKey(this.#prefix, key), toBuffer(value))
    }
    if (latest.size === 0) return
    if (ms !== null && ms <= 0) {
      await this.#deleteKeys('setMany', [...latest.keys()], false)
      return
    }
    await writeMany(this.#ctx, latest, ms)
  }

  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    const stored = scopedKey(this.#prefix, key)
    return this.#ctx.run('add', key, async (exec, dialect) => {
      const now = this.#ctx.now()
      if (ms !== null && ms <= 0) {
        // Already expired: nothing can be added, but an expired leftover may as well go.
        await exec(this.#ctx.sql.deleteExpired, [stored, now])
        return false
      }
      const row = { key: stored, value: toBuffer(value), expiresAt: expiryOf(now, ms), now }
      return dialect.add(exec, this.#ctx.knex, this.#ctx.names, row)
    })
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return this.#ctx.run('has', key, async (exec, dialect) => {
      const bindings = [scopedKey(this.#prefix, key), this.#ctx.now()]
      return dialect.rows(await exec(this.#ctx.sql.has, bindings)).length > 0
    })
  }

  /** Resolves true only if a live entry was removed (an expired row counts as absent). */
  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#deleteKeys('delete', [scopedKey(this.#prefix, key)], true)) > 0
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    this.#keys(keys)
    if (keys.length === 0) return 0
    const stored = [...new Set(keys)].map((key) => scopedKey(this.#prefix, key))
    return this.#deleteKeys('deleteMany', stored, true)
  }

  /**
   * Adds `delta` in one statement (MySQL: a short transaction); a missing or expired key starts
   * at 0 and takes `options.ttl` (else the default TTL) in the same step.
   */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = resolveTtl(options?.ttl, this.#defaultTtl, key)
    const result = await this.#ctx.run('increment', key, (exec, dialect) => {
      const now = this.#ctx.now()
      const op = { key: scopedKey(this.#prefix, key), delta, now, expiresAt: expiryOf(now, ms) }
      return dialect.increment(exec, this.#ctx.knex, this.#ctx.names, op)
    })
    if (result.kind === 'ok') return result.value
    if (result.kind === 'overflow') return addToCounter(result.current, delta, key) // throws
    throw new InvalidArgumentError(
      `[cellar:knex] cannot increment key "${key}": its value is not a canonical decimal counter`,
      { key, code: 'E_NOT_A_NUMBER' },
    )
  }

  /** One `UPDATE … WHERE live`; a TTL `<= 0` deletes the live entry. Never revives. */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    const stored = scopedKey(this.#prefix, key)
    return this.#ctx.run('touch', key, async (exec, dialect) => {
      const now = this.#ctx.now()
      const result =
        ms !== null && ms <= 0
          ? await exec(this.#ctx.sql.deleteLive(1), [stored, now])
          : await exec(this.#ctx.sql.touch, [expiryOf(now, ms), stored, now])
      return dialect.affected(result) > 0
    })
  }

  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    return this.#ctx.run('ttl', key, async (exec, dialect) => {
      const now = this.#ctx.now()
      const bindings = [scopedKey(this.#prefix, key), now]
      const row = dialect.rows(await exec(this.#ctx.sql.ttl, bindings))[0]
      if (row === undefined) return undefined
      const expiresAt = toNumber(row.expires)
      // Alive through `now == expires_at`: the remaining time is then 1 ms, never 0.
      return expiresAt === null ? null : Math.max(1, Math.ceil(expiresAt - now))
    })
  }

  /**
   * The live keys of this namespace, read in key order one page (`batchSize` rows) at a time
   * from the primary-key range of its prefix; nested namespaces' keys are left out.
   */
  async *keys(): AsyncGenerator<string, void, undefined> {
    this.#open()
    const upper = prefixBound(this.#prefix)
    for await (const stored of storedKeys(this.#ctx, this.#prefix, upper, () => this.#open())) {
      const key = unscopedKey(this.#prefix, stored)
      if (key !== undefined) yield key
    }
  }

  /** Deletes this namespace's rows (and nested namespaces'): one primary-key range. */
  async clear(): Promise<void> {
    this.#open()
    await this.#ctx.run('clear', undefined, async (exec) => {
      if (this.#prefix === '') return exec(this.#ctx.sql.clearAll, [])
      const upper = prefixBound(this.#prefix)
      const bindings = upper === undefined ? [this.#prefix] : [this.#prefix, upper]
      return exec(this.#ctx.sql.clearRange(upper !== undefined), bindings)
    })
  }

  /** Deletes every expired row of the table (any prefix) now; resolves how many went. */
  async prune(): Promise<number> {
    this.#open()
    return this.#ctx.sweep()
  }

  /** A store sharing this one's knex, tables and sweep, its keys under core's `namespacePrefix`. */
  namespace(name: string): KnexStore {
    this.#open()
    const prefix = namespacePrefix(this.#prefix, name)
    KnexStore.#handoff = this.#ctx
    try {
      return new KnexStore({ ...this.#options, prefix })
    } finally {
      KnexStore.#handoff = undefined
    }
  }

  /**
   * A lock in the locks table, named under this store's prefix; restore one held elsewhere by
   * passing its `owner`. Fencing tokens keep increasing per name, across releases. Once this
   * store (or its root) is closed, every call of the handle rejects with `E_STORE_CLOSED`.
   */
  lock(name: string, options?: LockOptions): Lock {
    // No open check here: a handle made after close() refuses its calls, as one made before.
    this.#key(name)
    const owner = options?.owner
    if (typeof owner === 'string' && utf8Length(owner) > MAX_OWNER_BYTES) {
      throw new InvalidArgumentError(
        `[cellar:knex] lock owner is ${utf8Length(owner)} bytes; at most ${MAX_OWNER_BYTES} are stored`,
        { key: name },
      )
    }
    return new Lock(this.#locks, name, options)
  }

  /**
   * The native limiter step on this store's table: one short transaction per decision holding
   * the state row's lock, timed by the database server's clock (see the README).
   */
  rateLimiter(): RateLimitBackend {
    return new KnexRateLimitBackend(this.#ctx, this.#prefix, (key) => this.#check(key))
  }

  /**
   * Closes this store and its lock handles. The store that was constructed (not a namespace)
   * also closes its namespaces, stops the sweep, and destroys the knex instance only if it
   * created it from a config; a namespace releases nothing shared.
   */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#root) await this.#ctx.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #deleteKeys(operation: string, stored: string[], liveOnly: boolean): Promise<number> {
    const key = stored.length === 1 ? unscopedKey(this.#prefix, stored[0] as string) : undefined
    return deleteStored(this.#ctx, operation, key, stored, liveOnly)
  }

  #open(): void {
    if (this.#closed || this.#ctx.closed) {
      throw new StoreClosedError('[cellar:knex] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    this.#key(key)
  }

  #key(key: string): void {
    assertKey(key, this.#maxKeyLength)
    if (!this.#ctx.dialect.nulInKeys && key.includes('\u0000')) {
      throw new InvalidKeyError(
        `[cellar:knex] key "${key.slice(0, 64)}" contains U+0000, which ${this.#ctx.dialect.name} text cannot hold`,
        { key },
      )
    }
  }

  #keys(keys: readonly string[]): void {
    assertKeys(keys)
    for (const key of keys) this.#key(key)
  }
}
