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

type PgCallback = (error: Error | null, result: unknown) => void

/** pg's submittable query (`pg.Query`, which pg's `Client` exposes as `Client.Query`). */
interface PgQuery {
  name: string | undefined
  submit(connection: unknown): void
}

interface PgConnection {
  query(config: PgQuery): void
  query(
    config: { name: string; text: string; values: readonly unknown[] },
    callback: PgCallback,
  ): void
  readonly constructor: {
    readonly Query?: new (text: string, values: readonly unknown[], callback: PgCallback) => PgQuery
  }
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

/** Runs one statement on a connection and calls back once with its error or raw result. */
type Sender = (
  connection: unknown,
  sql: string,
  bindings: readonly unknown[],
  done: (error: unknown, result: unknown) => void,
) => void

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

function pgSender(): Sender {
  // The store's SQL has no literal question marks, so every `?` is a placeholder (SQL already
  // written with `$1`, `$2`, … has none, and goes as it is).
  const prepare = memo((sql) => {
    let index = 0
    const text = sql.replace(/\?/g, () => `$${++index}`)
    const name = `cellar_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`
    return { name, text }
  })
  // pg's callback form: no promise of pg's own to settle (and adopt) per statement. A query
  // config object is copied property by property with its descriptors (pg's
  // `normalizeQueryConfig`), which costs more than the rest of building the query: so the query
  // is built from its text, values and callback (a string config is not copied), named after,
  // and submitted as it is. A client without `Client.Query` gets the config object.
  return (raw, sql, bindings, done) => {
    const { name, text } = prepare(sql)
    const connection = raw as PgConnection
    const Query = connection.constructor.Query
    if (Query === undefined) {
      connection.query({ name, text, values: bindings }, done)
      return
    }
    const query = new Query(text, bindings, done)
    query.name = name
    connection.query(query)
  }
}

function mysqlSender(): Sender {
  return (raw, sql, bindings, done) => {
    ;(raw as MysqlConnection).execute(sql, bindings, (error, rows, fields) =>
      error ? done(error, undefined) : done(null, [rows, fields]),
    )
  }
}

/** Statements a kept connection may run before it goes back to the pool (both leases below). */
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

/** A connection the store borrowed from knex's pool, and the statements it ran on it since. */
interface Lease {
  readonly connection: unknown
  uses: number
}

/**
 * PostgreSQL and MySQL answer asynchronously, so a statement holds its connection until the
 * reply. knex's pool (tarn) costs about as much per acquire and release as the rest of a
 * statement on the client (two timers, a validation and a dozen promises: callgrind, about a
 * quarter of a rate limiter's consume), so the fast path keeps the connections it borrowed: one
 * that finishes a statement goes to the next statement of the store waiting for one, else waits
 * idle until the next turn of the event loop (`setImmediate`), when every idle one goes back.
 * A connection also goes back after `LEASE_USES` statements, after a statement that failed, and
 * when knex marked it broken. Others queued on the pool (knex serves them first in, first out)
 * get a connection then: they wait at most one turn, or 64 statements of a connection the store
 * keeps busy. The store's statements wait for a lent connection in order of arrival; when none
 * is idle, each waiting statement has one acquire from the pool in flight, and an acquire that
 * fails (its timeout) fails the statement that waited longest. Every statement still runs on a
 * connection the pool lent to the store alone, and the pool's validation (knex's, the
 * application's `validate`, a connection's lifetime) runs when the pool lends it.
 */
function networkLease(client: PoolClient, send: Sender): Exec {
  const idle: Lease[] = []
  const waiting: Array<(lease: Lease | undefined, error?: unknown) => void> = []
  let acquiring = 0
  let sweeping = false

  // knex's release settles at once; a throw (no pool left) has no caller to go to, and must not
  // escape from the driver's callback.
  const release = (connection: unknown) => {
    try {
      void client.releaseConnection(connection)
    } catch {}
  }
  const giveBack = () => {
    sweeping = false
    for (const lease of idle) release(lease.connection)
    idle.length = 0
  }
  const acquire = () => {
    acquiring++
    client.acquireConnection().then(
      (connection) => {
        acquiring--
        park({ connection, uses: 0 })
      },
      (error: unknown) => {
        acquiring--
        waiting.shift()?.(undefined, error)
        if (waiting.length > acquiring) acquire()
      },
    )
  }
  // A connection free for the next statement.
  const park = (lease: Lease) => {
    const next = waiting.shift()
    if (next !== undefined) {
      next(lease)
      return
    }
    idle.push(lease)
    if (!sweeping) {
      sweeping = true
      setImmediate(giveBack)
    }
  }
  const finish = (lease: Lease, failed: boolean) => {
    if (
      failed ||
      lease.uses >= LEASE_USES ||
      (lease.connection as { __knex__disposed?: unknown }).__knex__disposed
    ) {
      release(lease.connection)
      if (waiting.length > acquiring) acquire()
    } else {
      park(lease)
    }
  }
  const start = (
    lease: Lease,
    sql: string,
    bindings: readonly unknown[],
    resolve: (result: unknown) => void,
    reject: (error: unknown) => void,
  ) => {
    lease.uses++
    try {
      send(lease.connection, sql, bindings, (error, result) => {
        // The connection goes on to the next statement before this one's caller resumes.
        finish(lease, error != null)
        if (error != null) reject(error)
        else resolve(result)
      })
    } catch (error) {
      finish(lease, true)
      reject(error)
    }
  }
  return (sql, bindings) =>
    new Promise((resolve, reject) => {
      const lease = idle.pop()
      if (lease !== undefined) {
        start(lease, sql, bindings, resolve, reject)
        return
      }
      waiting.push((lent, error) => {
        if (lent === undefined) reject(error)
        else start(lent, sql, bindings, resolve, reject)
      })
      if (waiting.length > acquiring) acquire()
    })
}

/**
 * Runs the store's statements as prepared statements on connections borrowed from knex's pool:
 * better-sqlite3 statements cached per connection, PostgreSQL named prepared statements,
 * mysql2 `execute` (its own statement cache). It skips what knex does per query (building a
 * query object, re-preparing on SQLite, events) and keeps knex's pool, so limits, timeouts and
 * reconnection still apply; connections are kept for a burst of statements (`sqliteLease`,
 * `networkLease`). Results have knex's raw shapes.
 */
export function preparedExec(knex: Knex, dialect: DialectName): Exec {
  const client = knex.client as unknown as PoolClient
  if (dialect === 'sqlite') return sqliteLease(client, sqliteRunner())
  const exec = networkLease(client, dialect === 'pg' ? pgSender() : mysqlSender())
  if (dialect === 'pg') NUMBERED.add(exec)
  return exec
}
