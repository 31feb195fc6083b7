import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { DialectName, Exec } from './types.js'

/** The slice of better-sqlite3's API the fast path uses. */
interface SqliteStatement {
  readonly reader: boolean
  all(params: readonly unknown[]): unknown[]
  run(params: readonly unknown[]): { changes: number }
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement
}

interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<unknown>
}

interface MysqlConnection {
  execute(
    sql: string,
    values: readonly unknown[],
    callback: (error: Error | null, rows: unknown, fields: unknown) => void,
  ): void
}

interface PoolClient {
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown>
}

type Runner = (connection: unknown, sql: string, bindings: readonly unknown[]) => Promise<unknown>

function memo<T>(build: (sql: string) => T): (sql: string) => T {
  const cache = new Map<string, T>()
  return (sql) => {
    let value = cache.get(sql)
    if (value === undefined) {
      value = build(sql)
      cache.set(sql, value)
    }
    return value
  }
}

function sqliteRunner(): Runner {
  const cache = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>()
  // Synchronous inside a promise: a throw becomes a rejection.
  return async (raw, sql, bindings) => {
    const connection = raw as SqliteConnection
    let statements = cache.get(connection)
    if (statements === undefined) {
      statements = new Map()
      cache.set(connection, statements)
    }
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = connection.prepare(sql)
      statements.set(sql, statement)
    }
    return statement.reader ? statement.all(bindings) : statement.run(bindings)
  }
}

/** Execs that send SQL written with `$1`, `$2`, … to PostgreSQL as it is. */
const NUMBERED = new WeakSet<Exec>()

/** Whether `exec` takes PostgreSQL's numbered parameters (`$1`, reusable) as well as `?`. */
export function takesNumbered(exec: Exec): boolean {
  return NUMBERED.has(exec)
}

function pgRunner(): Runner {
  // The store's SQL has no literal question marks, so every `?` is a placeholder (SQL already
  // written with `$1`, `$2`, … has none, and goes as it is).
  const prepare = memo((sql) => {
    let index = 0
    const text = sql.replace(/\?/g, () => `$${++index}`)
    const name = `cellar_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`
    return { name, text }
  })
  return (raw, sql, bindings) => {
    const { name, text } = prepare(sql)
    return (raw as PgConnection).query({ name, text, values: bindings })
  }
}

function mysqlRunner(): Runner {
  return (raw, sql, bindings) =>
    new Promise((resolve, reject) => {
      ;(raw as MysqlConnection).execute(sql, bindings, (error, rows, fields) =>
        error ? reject(error) : resolve([rows, fields]),
      )
    })
}

/** Statements a SQLite connection may run before it goes back to the pool within one burst. */
const LEASE_USES = 64

/**
 * better-sqlite3 answers synchronously, so a connection is not needed across an await: the fast
 * path keeps the one it borrowed from knex's pool for a burst of statements and gives it back at
 * the next turn of the event loop (`setImmediate`) or after `LEASE_USES` statements, whichever
 * comes first. Others waiting on the pool (knex queues them first in, first out) get it then:
 * they wait at most one turn or 64 statements, and every statement of the store still runs on a
 * connection the pool lent to it alone. It saves a pool round trip (two promises and a timer)
 * per statement, more than half of a prepared SQLite read.
 */
function sqliteLease(client: PoolClient, run: Runner): Exec {
  let held: unknown
  let uses = 0
  let taking: Promise<void> | undefined
  const giveBack = (connection: unknown) => {
    if (held !== connection) return
    held = undefined
    void client.releaseConnection(connection)
  }
  const take = async () => {
    const connection = await client.acquireConnection()
    held = connection
    uses = 0
    setImmediate(giveBack, connection)
  }
  const slow = async (sql: string, bindings: readonly unknown[]): Promise<unknown> => {
    for (;;) {
      if (held !== undefined && uses < LEASE_USES) {
        uses++
        return run(held, sql, bindings)
      }
      if (held !== undefined) giveBack(held)
      taking ??= take().finally(() => {
        taking = undefined
      })
      await taking
    }
  }
  return (sql, bindings) => {
    if (held === undefined || uses >= LEASE_USES) return slow(sql, bindings)
    uses++
    return run(held, sql, bindings)
  }
}

/**
 * Runs the store's statements as prepared statements on connections borrowed from knex's pool:
 * better-sqlite3 statements cached per connection, PostgreSQL named prepared statements,
 * mysql2 `execute` (its own statement cache). It skips what knex does per query (building a
 * query object, re-preparing on SQLite, events) and keeps knex's pool, so limits, timeouts and
 * reconnection still apply. Results have knex's raw shapes.
 */
export function preparedExec(knex: Knex, dialect: DialectName): Exec {
  const client = knex.client as unknown as PoolClient
  if (dialect === 'sqlite') return sqliteLease(client, sqliteRunner())
  const run = dialect === 'pg' ? pgRunner() : mysqlRunner()
  const exec: Exec = async (sql, bindings) => {
    const connection = await client.acquireConnection()
    try {
      return await run(connection, sql, bindings)
    } finally {
      await client.releaseConnection(connection)
    }
  }
  if (dialect === 'pg') NUMBERED.add(exec)
  return exec
}
