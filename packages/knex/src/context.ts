import {
  InvalidArgumentError,
  parseDuration,
  type StoreCapabilities,
  utf8Length,
} from '@cellar/core'
import createKnex, { type Knex } from 'knex'
import { dialectOf, isSqliteMemory } from './dialects/index.js'
import { backendError } from './errors.js'
import { preparedExec } from './prepared.js'
import {
  DEFAULT_LOCK_TABLE,
  DEFAULT_TABLE,
  execOn,
  type KeyLimits,
  keyLimits,
  type TableNames,
  tableNames,
} from './sql.js'
import { type Statements, statements } from './statements.js'
import type { Exec, KnexStoreOptions, SqlDialect } from './types.js'

const DEFAULT_PRUNE_MS = 60_000

/**
 * What a root store and its namespaces share: the knex instance, statements, setup, sweep and
 * the root's closed state. Internal: it reaches namespaces through `KnexStore`'s private handoff.
 */
export interface Context {
  readonly knex: Knex
  readonly dialect: SqlDialect
  readonly names: TableNames
  readonly sql: Statements
  readonly now: () => number
  readonly batchSize: number
  readonly limits: KeyLimits
  /** A private SQLite memory database: nothing is shared or persistent. */
  readonly memory: boolean
  /** True once the root store was closed. */
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
  /** Deletes every expired row of the table in primary-key batches; resolves the count. */
  sweep(): Promise<number>
  /** Marks the family closed, stops the sweep; destroys knex only when the store created it. */
  close(): Promise<void>
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

/**
 * One pass over the table in primary-key batches of `SWEEP_BATCH` rows: each batch is two short
 * statements (find the batch's last key, delete the expired rows up to it), so no statement
 * holds the database for long and no expiry index is needed.
 */
async function sweepPass(
  exec: Exec,
  dialect: SqlDialect,
  sql: Statements,
  now: number,
  stopped: () => boolean,
) {
  let cursor: unknown = ''
  let removed = 0
  // A pass that close() interrupts stops between statements: nothing runs after close.
  for (; !stopped(); ) {
    const edge = dialect.rows(await exec(sql.sweepEdge, [cursor]))[0]?.key
    if (edge === undefined) {
      return removed + dialect.affected(await exec(sql.sweepTail, [cursor, now]))
    }
    removed += dialect.affected(await exec(sql.sweepRange, [cursor, edge, now]))
    cursor = edge
  }
  return removed
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`[cellar:knex] ${what} must be a positive integer`)
  }
  return value
}

/** Validates the options, opens knex from a config if given one, and starts the sweep. */
export function createContext(options: KnexStoreOptions): Context {
  const prune = options.pruneInterval ?? DEFAULT_PRUNE_MS
  const pruneMs = prune === false ? false : parseDuration(prune, 'pruneInterval')
  if (pruneMs !== false && !(pruneMs > 0)) {
    throw new InvalidArgumentError('[cellar:knex] pruneInterval must be positive or false')
  }
  const batchSize = positiveInteger(options.batchSize ?? 500, 'batchSize')
  const given = typeof options.knex === 'function'
  const knex = given ? (options.knex as Knex) : createKnex(options.knex as Knex.Config)
  try {
    return build(knex, options, { ownsKnex: !given, pruneMs, batchSize })
  } catch (error) {
    if (!given) void knex.destroy()
    throw error
  }
}

function build(
  knex: Knex,
  options: KnexStoreOptions,
  settings: { ownsKnex: boolean; pruneMs: number | false; batchSize: number },
): Context {
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
  const sql = statements(dialect, names, settings.batchSize)
  const now = options.now ?? Date.now
  let ready = options.autoCreateTable === false
  let creating: Promise<void> | undefined
  let closed = false
  let sweeping: Promise<number> | undefined

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

  const run: Context['run'] = async (operation, key, fn) => {
    try {
      if (!ready) await init()
      return await fn(exec, dialect)
    } catch (error) {
      throw backendError(operation, error, key)
    }
  }

  // Concurrent callers (the timer, prune()) share one pass.
  const sweep = (): Promise<number> => {
    const pass = () => sweepPass(exec, dialect, sql, now(), () => closed)
    sweeping ??= run('prune', undefined, pass).finally(() => {
      sweeping = undefined
    })
    return sweeping
  }

  const timer =
    settings.pruneMs === false
      ? undefined
      : setInterval(() => {
          // A failed sweep is retried at the next tick; reads ignore expired rows meanwhile.
          sweep().catch(() => {})
        }, settings.pruneMs)
  timer?.unref()

  return {
    knex,
    dialect,
    names,
    sql,
    now,
    batchSize: settings.batchSize,
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
    run,
    sweep,
    async close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      // A sweep in flight finishes its current statement and stops before close() resolves.
      await sweeping?.catch(() => {})
      if (settings.ownsKnex) await knex.destroy()
    },
  }
}

/** Checks a store's prefix against the dialect and declares what the store can do. */
export function capabilitiesOf(
  ctx: Context,
  prefix: string,
  maxValueSize = ctx.dialect.defaultMaxValueSize,
): StoreCapabilities {
  const { dialect, limits } = ctx
  if (!dialect.nulInKeys && prefix.includes('\u0000')) {
    throw new InvalidArgumentError(
      `[cellar:knex] prefix contains U+0000, which ${dialect.name} text cannot hold`,
    )
  }
  if (utf8Length(prefix) > limits.maxPrefixLength) {
    throw new InvalidArgumentError(
      `[cellar:knex] prefix "${prefix.slice(0, 64)}" is ${utf8Length(prefix)} bytes; maxPrefixLength is ${limits.maxPrefixLength}`,
    )
  }
  if (typeof maxValueSize !== 'number' || !(maxValueSize > 0)) {
    throw new InvalidArgumentError(
      `[cellar:knex] maxValueSize must be a positive number, got ${maxValueSize}`,
    )
  }
  return Object.freeze({
    atomicCounters: true,
    atomicAdd: true,
    locks: true,
    sharedAcrossProcesses: !ctx.memory,
    persistent: !ctx.memory,
    retainsValues: true,
    raw: false,
    maxKeyLength: limits.maxKeyLength,
    maxValueSize,
    ttlPrecision: 1,
    readsTtl: true,
    listsKeys: true,
    evicts: false,
  })
}
