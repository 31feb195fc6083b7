import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  InvalidArgumentError,
  InvalidKeyError,
  Lock,
  type LockOptions,
  parseDuration,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
  utf8Length,
} from '@cellar/core'
import createKnex, { type Knex } from 'knex'
import { type Context, createContext } from './context.js'
import { backendError } from './errors.js'
import { KnexLockBackend } from './lock.js'
import { chunk, DEFAULT_TABLE, execOn, expiryOf, toBuffer, toBytes } from './sql.js'
import type { KnexStoreOptions } from './types.js'

const NAME = 'knex'
const DEFAULT_PRUNE_MS = 60_000
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
  readonly #ctx: Context
  readonly #options: KnexStoreOptions
  readonly #prefix: string
  readonly #defaultTtl: Ttl
  readonly #maxKeyLength: number
  readonly #locks: KnexLockBackend
  #closed = false
  #ownsContext = false

  constructor(options: KnexStoreOptions, context?: Context) {
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
    this.#defaultTtl = options.defaultTtl ?? null
    resolveTtl(this.#defaultTtl) // refuse a bad default up front
    this.#ctx = context ?? this.#createContext(options)
    const { dialect } = this.#ctx
    if (!dialect.nulInKeys && this.#prefix.includes('\u0000')) {
      throw new InvalidArgumentError(
        `[cellar:knex] prefix contains U+0000, which ${dialect.name} text cannot hold`,
      )
    }
    const { maxKeyLength, maxPrefixLength } = this.#ctx.limits
    this.#maxKeyLength = maxKeyLength
    if (utf8Length(this.#prefix) > maxPrefixLength) {
      throw new InvalidArgumentError(
        `[cellar:knex] prefix "${this.#prefix.slice(0, 64)}" is ${utf8Length(this.#prefix)} bytes; maxPrefixLength is ${maxPrefixLength}`,
      )
    }
    const memory = this.#ctx.memory
    this.capabilities = Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: !memory,
      persistent: !memory,
      retainsValues: true,
      raw: false,
      maxKeyLength: this.#maxKeyLength,
      maxValueSize: positive(options.maxValueSize ?? dialect.defaultMaxValueSize, 'maxValueSize'),
      ttlPrecision: 1,
    })
    this.#locks = new KnexLockBackend(this.#ctx, this.#prefix)
  }

  /** The prefix every key of this store is stored under. */
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
      const result = await ctx.exec(ctx.sql.get, [this.#prefix + key, ctx.now()])
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
    const found = new Map<string, Uint8Array>()
    await this.#ctx.run('getMany', undefined, async (exec, dialect) => {
      const now = this.#ctx.now()
      for (const run of chunk([...new Set(keys)], this.#ctx.batchSize)) {
        const full = run.map((key) => this.#prefix + key)
        const rows = dialect.rows(await exec(this.#ctx.sql.getMany(run.length), [...full, now]))
        for (const row of rows) {
          found.set(dialect.keyText(row.key).slice(this.#prefix.length), toBytes(row.value))
        }
      }
    })
    return keys.map((key) => found.get(key))
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    const ctx = this.#ctx
    try {
      if (!ctx.ready) await ctx.init()
      if (ms !== null && ms <= 0) await ctx.exec(ctx.sql.deleteAny(1), [this.#prefix + key])
      else {
        const row = [this.#prefix + key, toBuffer(value), expiryOf(ctx.now(), ms)]
        await ctx.exec(ctx.sql.upsert(1), row)
      }
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
      latest.set(this.#prefix + key, toBuffer(value))
    }
    if (latest.size === 0) return
    if (ms !== null && ms <= 0) {
      await this.#deleteKeys('setMany', [...latest.keys()], false)
      return
    }
    const runs = chunk([...latest], this.#ctx.batchSize)
    await this.#ctx.run('setMany', undefined, async (exec) => {
      const expiresAt = expiryOf(this.#ctx.now(), ms)
      const write = async (run: Array<[string, Buffer]>, through = exec) => {
        await through(
          this.#ctx.sql.upsert(run.length),
          run.flatMap(([key, value]) => [key, value, expiresAt]),
        )
      }
      if (runs.length === 1) return write(runs[0] as Array<[string, Buffer]>)
      // Several statements: one transaction keeps the batch all-or-nothing.
      await this.#ctx.knex.transaction(async (trx) => {
        for (const run of runs) await write(run, execOn(trx))
      })
    })
  }

  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    return this.#ctx.run('add', key, async (exec, dialect) => {
      const now = this.#ctx.now()
      if (ms !== null && ms <= 0) {
        // Already expired: nothing can be added, but an expired leftover may as well go.
        await exec(this.#ctx.sql.deleteExpired, [this.#prefix + key, now])
        return false
      }
      const row = {
        key: this.#prefix + key,
        value: toBuffer(value),
        expiresAt: expiryOf(now, ms),
        now,
      }
      return dialect.add(exec, this.#ctx.knex, this.#ctx.names, row)
    })
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return this.#ctx.run('has', key, async (exec, dialect) => {
      const result = await exec(this.#ctx.sql.has, [this.#prefix + key, this.#ctx.now()])
      return dialect.rows(result).length > 0
    })
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#deleteKeys('delete', [this.#prefix + key], true)) > 0
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    this.#keys(keys)
    if (keys.length === 0) return 0
    return this.#deleteKeys(
      'deleteMany',
      [...new Set(keys)].map((key) => this.#prefix + key),
      true,
    )
  }

  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const result = await this.#ctx.run('increment', key, (exec, dialect) =>
      dialect.increment(exec, this.#ctx.knex, this.#ctx.names, {
        key: this.#prefix + key,
        delta,
        now: this.#ctx.now(),
      }),
    )
    if (result.kind === 'ok') return result.value
    if (result.kind === 'nan') {
      throw new InvalidArgumentError(
        `[cellar:knex] cannot increment key "${key}": its value is not an integer counter`,
        { key, code: 'E_NOT_A_NUMBER' },
      )
    }
    throw new InvalidArgumentError(
      `[cellar:knex] counter "${key}" would leave the safe integer range`,
      { key },
    )
  }

  async clear(): Promise<void> {
    this.#open()
    await this.#ctx.run('clear', undefined, async (exec) => {
      if (this.#prefix === '') {
        await exec(this.#ctx.sql.clearAll, [])
        return
      }
      const match = this.#ctx.dialect.prefixMatch(this.#ctx.columns.key, this.#prefix)
      await exec(`${this.#ctx.sql.clearAll} WHERE ${match.sql}`, match.bindings)
    })
  }

  /** Deletes every expired row of the table (any prefix); resolves how many went. */
  async prune(): Promise<number> {
    this.#open()
    return this.#ctx.run('prune', undefined, async (exec, dialect) =>
      dialect.affected(await exec(this.#ctx.sql.prune, [this.#ctx.now()])),
    )
  }

  /** A store sharing this one's knex, tables and sweep, with keys under `<prefix><name>:`. */
  namespace(name: string): KnexStore {
    this.#open()
    assertKey(name)
    return new KnexStore({ ...this.#options, prefix: `${this.#prefix}${name}:` }, this.#ctx)
  }

  /**
   * A lock in the locks table, named under this store's prefix; restore one held elsewhere by
   * passing its `owner`. Fencing tokens keep increasing per name, across releases.
   */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
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
   * Closes this store. The store that was constructed (not a namespace) also stops the sweep
   * and destroys the knex instance only if it created it from a config.
   */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsContext) await this.#ctx.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #deleteKeys(operation: string, fullKeys: string[], liveOnly: boolean): Promise<number> {
    const { sql } = this.#ctx
    return this.#ctx.run(
      operation,
      fullKeys.length === 1 ? fullKeys[0] : undefined,
      async (exec, dialect) => {
        const now = this.#ctx.now()
        let removed = 0
        for (const run of chunk(fullKeys, this.#ctx.batchSize)) {
          const result = liveOnly
            ? await exec(sql.deleteLive(run.length), [...run, now])
            : await exec(sql.deleteAny(run.length), run)
          removed += dialect.affected(result)
        }
        return removed
      },
    )
  }

  #createContext(options: KnexStoreOptions): Context {
    this.#ownsContext = true
    const given = typeof options.knex === 'function'
    const prune = options.pruneInterval ?? DEFAULT_PRUNE_MS
    const pruneMs = prune === false ? false : parseDuration(prune, 'pruneInterval')
    if (pruneMs !== false && !(pruneMs > 0)) {
      throw new InvalidArgumentError('[cellar:knex] pruneInterval must be positive or false')
    }
    const batchSize = options.batchSize ?? 500
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidArgumentError('[cellar:knex] batchSize must be a positive integer')
    }
    const knex = given ? (options.knex as Knex) : createKnex(options.knex as Knex.Config)
    try {
      return createContext(knex, {
        ...options,
        ownsKnex: !given,
        pruneMs,
        batchSize,
        prune: () => this.prune(),
      })
    } catch (error) {
      if (!given) void knex.destroy()
      throw error
    }
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

function positive(value: number, what: string): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidArgumentError(`[cellar:knex] ${what} must be a positive number, got ${value}`)
  }
  return value
}
