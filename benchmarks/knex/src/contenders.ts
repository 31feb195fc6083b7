import { createRequire } from 'node:module'
import { KnexStore } from '@cellar/knex'
import { knexDriver } from 'bentocache/drivers/knex'
import Keyv from 'keyv'
import createKnex, { type Knex } from 'knex'
import pg from 'pg'

/** How many distinct keys each contender cycles through (all written up front). */
export const KEYS = 256
/** A 200-byte value, as a service would cache a serialized row. */
export const VALUE = new Uint8Array(200).fill(0x61)
/** Every write carries a TTL, as real cache entries do: one hour. */
export const TTL_MS = 3_600_000
const VALUE_TEXT = 'a'.repeat(200)

/** One library under test on one database: a read of a present key, a write, maybe a lock. */
export interface Contender {
  readonly name: string
  get?(key: string): Promise<unknown>
  set?(key: string, value: Uint8Array): Promise<unknown>
  /** One acquire + release of an uncontended lock. */
  lock?(): Promise<unknown>
  close(): Promise<void>
}

export type Dialect = 'sqlite' | 'pg'

export interface Database {
  readonly dialect: Dialect
  readonly knexConfig: Knex.Config
  /** For clients that take a URL (Keyv). */
  readonly url: string
  /** For the bare-driver floor. */
  readonly pgConnection?: pg.ClientConfig
  readonly sqliteFile?: string
}

/** What a `KnexStore` build exports, for the store of this checkout and of an older one. */
type StoreClass = typeof KnexStore

/** The statements KnexStore runs for get and set, for the raw baselines to run as they are. */
const SQL = {
  get: `SELECT "value" FROM "cellar_cache" WHERE "key" = ? AND ("expires_at" IS NULL OR "expires_at" >= ?)`,
  set: `INSERT INTO "cellar_cache" ("key", "value", "expires_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`,
  // pg takes its own placeholders.
  pgGet: `SELECT "value" FROM "cellar_cache" WHERE "key" = $1 AND ("expires_at" IS NULL OR "expires_at" >= $2)`,
  pgSet: `INSERT INTO "cellar_cache" ("key", "value", "expires_at") VALUES ($1, $2, $3) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`,
}

function firstValue(rows: unknown): unknown {
  const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows
  return (list[0] as { value?: unknown } | undefined)?.value
}

function storeContenders(Store: StoreClass, knex: Knex, label: string, table: string) {
  const contenders: Contender[] = []
  for (const prepared of [false, true]) {
    const store = new Store({
      knex,
      prefix: 'bench:',
      tableName: table,
      lockTableName: `${table}_locks`,
      pruneInterval: false,
      preparedStatements: prepared,
    })
    contenders.push({
      name: `KnexStore${prepared ? ', preparedStatements' : ''}${label}`,
      get: (key) => store.get(key),
      set: (key, value) => store.set(key, value, TTL_MS),
      lock: async () => {
        const lock = store.lock('bench-lock', { ttl: 30_000 })
        if ((await lock.acquire()) === false) throw new Error('bench lock is held')
        await lock.release()
      },
      close: () => store.close(),
    })
  }
  return contenders
}

/**
 * Every contender on one database. Contenders over knex share one knex instance (one pool), as
 * they would in an application; the others open their own client. `Before`, when given, is the
 * `KnexStore` of an older build, on a table of its own (it creates the indexes it had then).
 */
export async function createContenders(
  db: Database,
  Before?: StoreClass,
): Promise<{ contenders: Contender[]; close: () => Promise<void> }> {
  const knex = createKnex(db.knexConfig)
  const contenders: Contender[] = []
  const prefix = 'bench:'
  const after = storeContenders(KnexStore, knex, '', 'cellar_cache')
  // Creates the table the raw baselines share with it.
  await after[0]?.set?.('warm', VALUE)
  contenders.push({
    name: 'raw knex: knex.raw of the same SQL',
    get: async (key) => firstValue(await knex.raw(SQL.get, [prefix + key, Date.now()])),
    set: (key, value) => knex.raw(SQL.set, [prefix + key, Buffer.from(value), Date.now() + TTL_MS]),
    close: async () => {},
  })
  contenders.push(...after)
  if (Before !== undefined) {
    contenders.push(...storeContenders(Before, knex, ' (before)', 'cellar_cache_before'))
  }

  // BentoCache's knex driver alone (no L1, no bus): the closest peer. It stores strings.
  const bento = knexDriver({ connection: knex, tableName: 'bentocache', pruneInterval: false })
  const driver = bento.factory({ ...bento.options, prefix: 'bench' })
  await driver.set('warm', VALUE_TEXT, TTL_MS)
  contenders.push({
    name: 'BentoCache knex driver',
    get: (key) => driver.get(key),
    set: (key) => driver.set(key, VALUE_TEXT, TTL_MS),
    close: async () => {},
  })

  const keyv = await createKeyv(db)
  if (keyv !== undefined) contenders.push(keyv)
  contenders.push(await createBare(db))
  const close = async () => {
    for (const contender of contenders) await contender.close()
    await knex.destroy()
  }
  return { contenders, close }
}

/** @keyv/sqlite needs the `sqlite3` native module, whose install script pnpm may have skipped. */
async function createKeyv(db: Database): Promise<Contender | undefined> {
  try {
    // Load the native module first: @keyv/sqlite loads it where a failure can't be caught.
    if (db.dialect === 'sqlite') createRequire(import.meta.resolve('@keyv/sqlite'))('sqlite3')
    const adapter =
      db.dialect === 'sqlite'
        ? new (await import('@keyv/sqlite')).default({ uri: db.url, table: 'keyv' })
        : new (await import('@keyv/postgres')).default({ uri: db.url, table: 'keyv' })
    const keyv = new Keyv({ store: adapter, namespace: 'bench' })
    await keyv.set('warm', VALUE_TEXT, TTL_MS)
    return {
      name: db.dialect === 'sqlite' ? '@keyv/sqlite 4 (keyv 5)' : '@keyv/postgres 2 (keyv 5)',
      get: (key) => keyv.get(key),
      set: (key) => keyv.set(key, VALUE_TEXT, TTL_MS),
      close: () => keyv.disconnect(),
    }
  } catch (error) {
    console.warn(`[bench] ${db.dialect} Keyv adapter unavailable: ${(error as Error).message}`)
    return undefined
  }
}

interface SqliteConnection {
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): unknown }
  pragma(sql: string): unknown
  close(): void
}

/** The floor: the same statements on the bare driver and the same table, no knex in between. */
async function createBare(db: Database): Promise<Contender> {
  if (db.dialect === 'sqlite') {
    const require = createRequire(import.meta.url)
    const Driver = require('better-sqlite3') as new (file: string) => SqliteConnection
    const connection = new Driver(db.sqliteFile as string)
    connection.pragma('journal_mode = WAL')
    const get = connection.prepare(SQL.get)
    const set = connection.prepare(SQL.set)
    return {
      name: 'raw better-sqlite3 (no knex)',
      get: async (key) => (get.get(`bench:${key}`, Date.now()) as { value?: unknown })?.value,
      set: async (key, value) => set.run(`bench:${key}`, Buffer.from(value), Date.now() + TTL_MS),
      close: async () => connection.close(),
    }
  }
  const client = new pg.Client(db.pgConnection)
  await client.connect()
  return {
    name: 'raw pg, named statements (no knex)',
    get: async (key) =>
      firstValue(
        await client.query({ name: 'get', text: SQL.pgGet, values: [`bench:${key}`, Date.now()] }),
      ),
    set: (key, value) =>
      client.query({
        name: 'set',
        text: SQL.pgSet,
        values: [`bench:${key}`, Buffer.from(value), Date.now() + TTL_MS],
      }),
    close: () => client.end(),
  }
}
