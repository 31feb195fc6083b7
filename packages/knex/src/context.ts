import type { Knex } from 'knex'
import { dialectOf, isSqliteMemory } from './dialects/index.js'
import { backendError } from './errors.js'
import { preparedExec } from './prepared.js'
import {
  DEFAULT_LOCK_TABLE,
  DEFAULT_TABLE,
  execOn,
  type KeyLimits,
  keyLimits,
  placeholders,
  type TableNames,
  tableNames,
} from './sql.js'
import type { Exec, KnexStoreOptions, SqlDialect } from './types.js'

/** Statements built once per store family from the quoted names. */
export interface Statements {
  readonly get: string
  readonly has: string
  readonly deleteExpired: string
  readonly clearAll: string
  readonly prune: string
  getMany(count: number): string
  deleteLive(count: number): string
  deleteAny(count: number): string
  upsert(count: number): string
  readonly release: string
  readonly forceRelease: string
  readonly extend: string
  readonly inspect: string
}

/** What a store and its namespaces share: the knex instance, statements, setup and sweep. */
export interface Context {
  readonly knex: Knex
  readonly dialect: SqlDialect
  readonly names: TableNames
  readonly columns: { readonly key: string }
  readonly sql: Statements
  readonly now: () => number
  readonly batchSize: number
  readonly limits: KeyLimits
  /** A private SQLite memory database: nothing is shared or persistent. */
  readonly memory: boolean
  readonly closed: boolean
  /** True once the tables are known to exist (or creation is off). */
  readonly ready: boolean
  /** Creates the tables once (concurrent callers share the attempt; a failure is retried later). */
  init(): Promise<void>
  /** Runs one statement (the hot paths call it directly, after `ready`). */
  readonly exec: Exec
  /** Runs `fn` once the tables exist; any failure but a cellar error becomes E_BACKEND_UNAVAILABLE. */
  run<T>(
    operation: string,
    key: string | undefined,
    fn: (exec: Exec, dialect: SqlDialect) => Promise<T>,
  ): Promise<T>
  /** Stops the sweep; destroys knex only when the store created it. */
  close(): Promise<void>
}

export interface ContextOptions extends KnexStoreOptions {
  readonly ownsKnex: boolean
  readonly pruneMs: number | false
  readonly batchSize: number
  readonly prune: () => Promise<unknown>
}

function memo(build: (count: number) => string): (count: number) => string {
  const cache = new Map<number, string>()
  return (count) => {
    let sql = cache.get(count)
    if (sql === undefined) {
      sql = build(count)
      cache.set(count, sql)
    }
    return sql
  }
}

function statements(dialect: SqlDialect, names: TableNames): Statements {
  const q = (identifier: string) => dialect.quote(identifier)
  const [key, value, expires] = [q('key'), q('value'), q('expires_at')]
  const { cache, locks } = names
  const live = `(${expires} IS NULL OR ${expires} > ?)`
  const lockLive = `(${expires} IS NULL OR ${expires} > ?)`
  return {
    get: `SELECT ${value} FROM ${cache} WHERE ${key} = ? AND ${live}`,
    has: `SELECT 1 AS ${q('found')} FROM ${cache} WHERE ${key} = ? AND ${live}`,
    deleteExpired: `DELETE FROM ${cache} WHERE ${key} = ? AND ${expires} IS NOT NULL AND ${expires} <= ?`,
    clearAll: `DELETE FROM ${cache}`,
    prune: `DELETE FROM ${cache} WHERE ${expires} IS NOT NULL AND ${expires} <= ?`,
    getMany: memo(
      (n) =>
        `SELECT ${key}, ${value} FROM ${cache} WHERE ${key} IN (${placeholders(n)}) AND ${live}`,
    ),
    deleteLive: memo(
      (n) => `DELETE FROM ${cache} WHERE ${key} IN (${placeholders(n)}) AND ${live}`,
    ),
    deleteAny: memo((n) => `DELETE FROM ${cache} WHERE ${key} IN (${placeholders(n)})`),
    upsert: memo((n) => dialect.upsertSql(names, n)),
    release: `UPDATE ${locks} SET ${q('owner')} = NULL, ${expires} = NULL WHERE ${q('name')} = ? AND ${q('owner')} = ? AND ${lockLive}`,
    forceRelease: `UPDATE ${locks} SET ${q('owner')} = NULL, ${expires} = NULL WHERE ${q('name')} = ?`,
    extend: `UPDATE ${locks} SET ${expires} = ? WHERE ${q('name')} = ? AND ${q('owner')} = ? AND ${lockLive}`,
    inspect: `SELECT ${q('owner')}, ${expires} AS ${q('expires')} FROM ${locks} WHERE ${q('name')} = ? AND ${q('owner')} IS NOT NULL AND ${lockLive}`,
  }
}

const BUSY_ATTEMPTS = 5

/**
 * SQLite: each attempt already waits the connection's busy timeout (better-sqlite3: 5 s), but the
 * busy handler is not fair, so under sustained contention from other processes a writer can
 * lose every retry within it. A statement refused with SQLITE_BUSY changed nothing (SQLite rolls
 * the statement back), so running it again is safe, even for increment and add.
 */
function retryBusy(exec: Exec): Exec {
  const isBusy = (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
  }
  const again = async (sql: string, bindings: readonly unknown[], failure: unknown) => {
    for (let attempt = 2; isBusy(failure) && attempt <= BUSY_ATTEMPTS; attempt++) {
      try {
        return await exec(sql, bindings)
      } catch (error) {
        failure = error
      }
    }
    throw failure
  }
  // No extra async frame on the common path: only a refusal enters the retry loop.
  return (sql, bindings) =>
    Promise.resolve(exec(sql, bindings)).catch((error: unknown) => again(sql, bindings, error))
}

/** Builds the shared state of a store family and starts the sweep. */
export function createContext(knex: Knex, options: ContextOptions): Context {
  const dialect = dialectOf(knex)
  const names = tableNames(
    dialect,
    options.tableName ?? DEFAULT_TABLE,
    options.lockTableName ?? DEFAULT_LOCK_TABLE,
  )
  const limits = keyLimits(dialect, options)
  const direct: Exec =
    options.preparedStatements === true ? preparedExec(knex, dialect.name) : execOn(knex)
  const exec = dialect.name === 'sqlite' ? retryBusy(direct) : direct
  let ready = options.autoCreateTable === false
  let creating: Promise<void> | undefined
  let closed = false

  const init = (): Promise<void> => {
    creating ??= dialect.createTables(knex, names, limits.columnBytes).then(
      () => {
        ready = true
      },
      (error: unknown) => {
        creating = undefined // the next operation tries again
        throw error
      },
    )
    return creating
  }

  const timer =
    options.pruneMs === false
      ? undefined
      : setInterval(() => {
          // A failed sweep is retried at the next tick; reads ignore expired rows meanwhile.
          options.prune().catch(() => {})
        }, options.pruneMs)
  timer?.unref()

  return {
    knex,
    dialect,
    names,
    columns: { key: dialect.quote('key') },
    sql: statements(dialect, names),
    now: options.now ?? Date.now,
    batchSize: options.batchSize,
    limits,
    memory: dialect.name === 'sqlite' && isSqliteMemory(knex),
    get closed() {
      return closed
    },
    get ready() {
      return ready
    },
    init,
    exec,
    async run(operation, key, fn) {
      try {
        if (!ready) await init()
        return await fn(exec, dialect)
      } catch (error) {
        throw backendError(operation, error, key)
      }
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      if (options.ownsKnex) await knex.destroy()
    },
  }
}
