import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { errorMessage, urlHost } from './handle.js'
import { randomToken } from './prefix.js'
import { type Lookup, lookup, missing } from './require.js'
import type { FindOptions, SqlConnection, SqlDatabase } from './types.js'

const CONNECT_TIMEOUT_MS = 2000

/** A short-lived admin session: run statements, then close. */
interface AdminSession {
  run(sql: string): Promise<void>
  close(): Promise<void>
}

/** What differs between PostgreSQL and MariaDB/MySQL for finding a server and making databases. */
interface Dialect {
  name: string
  envVar: 'PG_URL' | 'MYSQL_URL'
  defaultUrl: string
  defaultPort: number
  defaultUser: string
  how: string
  open(connection: Partial<SqlConnection>): Promise<AdminSession>
  create(name: string): string
  drop(session: AdminSession, name: string): Promise<void>
}

const postgres: Dialect = {
  name: 'PostgreSQL',
  envVar: 'PG_URL',
  defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
  defaultPort: 5432,
  defaultUser: 'postgres',
  how: 'Provide one: set PG_URL=postgres://user:password@host:port/db (a user allowed to CREATE DATABASE), or run PostgreSQL on 127.0.0.1:5432 with user postgres.',
  async open(connection) {
    const client = new pg.Client({ ...connection, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
    return {
      run: async (sql) => {
        await client.query(sql)
      },
      close: () => client.end(),
    }
  },
  create: (name) => `CREATE DATABASE "${name}"`,
  async drop(session, name) {
    try {
      // FORCE (PostgreSQL 13+) ends sessions a test left open instead of failing the drop.
      await session.run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    } catch (error) {
      if ((error as { code?: string }).code !== '42601') throw error
      await session.run(`DROP DATABASE IF EXISTS "${name}"`)
    }
  },
}

const mysql: Dialect = {
  name: 'MariaDB/MySQL',
  envVar: 'MYSQL_URL',
  defaultUrl: 'mysql://root@127.0.0.1:3306/test',
  defaultPort: 3306,
  defaultUser: 'root',
  how: 'Provide one: set MYSQL_URL=mysql://user:password@host:port/db (a user allowed to CREATE DATABASE), or run MariaDB on 127.0.0.1:3306 with user root and an empty password.',
  async open(connection) {
    const client = await createConnection({ ...connection, connectTimeout: CONNECT_TIMEOUT_MS })
    client.on('error', () => {})
    return {
      run: async (sql) => {
        await client.query(sql)
      },
      close: () => client.end(),
    }
  },
  create: (name) => `CREATE DATABASE \`${name}\``,
  drop: (session, name) => session.run(`DROP DATABASE IF EXISTS \`${name}\``),
}

/** An admin endpoint that answered, plus the URL it came from (used to build per-database URLs). */
interface Admin {
  dialect: Dialect
  url: URL
  connection: SqlConnection
}

function parseConnection(dialect: Dialect, url: URL): SqlConnection {
  const connection: SqlConnection = {
    host: urlHost(url) || '127.0.0.1',
    port: Number(url.port || dialect.defaultPort),
    user: decodeURIComponent(url.username) || dialect.defaultUser,
    database: decodeURIComponent(url.pathname.slice(1)),
  }
  if (url.password) connection.password = decodeURIComponent(url.password)
  return connection
}

/** Connection fields as the driver wants them: no empty database name. */
function driverFields(connection: SqlConnection): Partial<SqlConnection> {
  const { database, ...rest } = connection
  return database ? connection : rest
}

async function findAdmin(dialect: Dialect, found: Lookup): Promise<Admin | undefined> {
  const envUrl = found.env[dialect.envVar]
  const url = new URL(envUrl || dialect.defaultUrl)
  const connection = parseConnection(dialect, url)
  try {
    const session = await dialect.open(driverFields(connection))
    try {
      await session.run('select 1')
    } finally {
      await session.close()
    }
    return { dialect, url, connection }
  } catch (error) {
    const where = envUrl
      ? `${dialect.envVar}=${envUrl} does not answer (${errorMessage(error)}): fix or unset it.`
      : `nothing usable at ${connection.host}:${connection.port} (${errorMessage(error)}). ${dialect.how}`
    return missing(found, dialect.name, where)
  }
}

async function createDatabase(admin: Admin): Promise<SqlDatabase> {
  const { dialect } = admin
  const name = `cellar_test_${randomToken()}`
  const session = await dialect.open(driverFields(admin.connection))
  try {
    await session.run(dialect.create(name))
  } finally {
    await session.close()
  }
  const url = new URL(admin.url.href)
  url.pathname = `/${name}`
  let disposed: Promise<void> | undefined
  const dispose = () => {
    disposed ??= (async () => {
      const dropper = await dialect.open(driverFields(admin.connection))
      try {
        await dialect.drop(dropper, name)
      } finally {
        await dropper.close()
      }
    })()
    return disposed
  }
  return {
    connection: { ...admin.connection, database: name },
    url: url.href,
    dispose,
    [Symbol.asyncDispose]: dispose,
  }
}

/**
 * Finds PostgreSQL (PG_URL, else postgres@127.0.0.1:5432/test) and creates a fresh database;
 * `dispose()` drops it. Resolves undefined after a loud line when absent (throws under CI).
 */
export async function findPostgres(options: FindOptions = {}): Promise<SqlDatabase | undefined> {
  const admin = await findAdmin(postgres, lookup(options))
  return admin && createDatabase(admin)
}

/**
 * Finds MariaDB/MySQL (MYSQL_URL, else root@127.0.0.1:3306/test) and creates a fresh database;
 * `dispose()` drops it. Resolves undefined after a loud line when absent (throws under CI).
 */
export async function findMysql(options: FindOptions = {}): Promise<SqlDatabase | undefined> {
  const admin = await findAdmin(mysql, lookup(options))
  return admin && createDatabase(admin)
}

let sharedPostgres: Promise<Admin | undefined> | undefined
let sharedMysql: Promise<Admin | undefined> | undefined

/** A fresh PostgreSQL database per call (server looked up once per process), or undefined. */
export async function usePostgres(): Promise<SqlDatabase | undefined> {
  sharedPostgres ??= findAdmin(postgres, lookup())
  const admin = await sharedPostgres
  return admin && createDatabase(admin)
}

/** A fresh MariaDB/MySQL database per call (server looked up once per process), or undefined. */
export async function useMysql(): Promise<SqlDatabase | undefined> {
  sharedMysql ??= findAdmin(mysql, lookup())
  const admin = await sharedMysql
  return admin && createDatabase(admin)
}
