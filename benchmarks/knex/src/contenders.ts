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
const VALUE_TEXT = 'a'.repeat(200)

/** One library under test on one database: a read of a present key and a write. */
export interface Contender {
  readonly name: string
  get(key: string): Promise<unknown>
  set(key: string, value: Uint8Array): Promise<unknown>
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

/** The statements KnexStore runs for get and set, for the raw-knex baseline to run as they are. */
function storeSql(dialect: Dialect) {
  const live = '("expires_at" IS NULL OR "expires_at" > ?)'
  return {
    get: `SELECT "value" FROM "cellar_cache" WHERE "key" = ? AND ${live}`,
    set: `INSERT INTO "cellar_cache" ("key", "value", "expires_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`,
    // better-sqlite3 and pg take their own placeholders.
    pgGet: `SELECT "value" FROM "cellar_cache" WHERE "key" = $1 AND ("expires_at" IS NULL OR "expires_at" > $2)`,
    pgSet: `INSERT INTO "cellar_cache" ("key", "value", "expires_at") VALUES ($1, $2, $3) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`,
    dialect,
  }
}

function firstValue(rows: unknown): unknown {
  const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows
  return (list[0] as { value?: unknown } | undefined)?.value
}

/**
 * Every contender on one database. Contenders over knex share one knex instance (one pool), as
 * they would in an application; the others open their own client.
 */
export async function createContenders(
  db: Database,
): Promise<{ contenders: Contender[]; close: () => Promise<void> }> {
  const knex = createKnex(db.knexConfig)
  const sql = storeSql(db.dialect)
  const contenders: Contender[] = []
  const prefix = 'bench:'

  const store = new KnexStore({ knex, prefix, pruneInterval: false })
  await store.set('warm', VALUE)
  // Baseline: the exact statements KnexStore sends, through knex.raw on the same table.
  contenders.push({
    name: 'raw knex: knex.raw of the same SQL',
    get: async (key) => firstValue(await knex.raw(sql.get, [prefix + key, Date.now()])),
    set: (key, value) => knex.raw(sql.set, [prefix + key, Buffer.from(value), null]),
    close: async () => {},
  })
  contenders.push({
    name: 'raw knex: query builder, same table',
    get: (key) =>
      knex('cellar_cache')
        .select('value')
        .where('key', prefix + key)
        .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', Date.now()))
        .first(),
    set: (key, value) =>
      knex('cellar_cache')
        .insert({ key: prefix + key, value: Buffer.from(value), expires_at: null })
        .onConflict('key')
        .merge(),
    close: async () => {},
  })
  contenders.push({
    name: 'KnexStore: get / set',
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    close: () => store.close(),
  })
  const fast = new KnexStore({ knex, prefix, pruneInterval: false, preparedStatements: true })
  contenders.push({
    name: 'KnexStore, preparedStatements: true',
    get: (key) => fast.get(key),
    set: (key, value) => fast.set(key, value),
    close: () => fast.close(),
  })

  // BentoCache's knex driver alone (no L1, no bus): the closest peer. It stores strings.
  const bento = knexDriver({ connection: knex, tableName: 'bentocache', pruneInterval: false })
  const driver = bento.factory({ ...bento.options, prefix: 'bench' })
  await driver.set('warm', VALUE_TEXT)
  contenders.push({
    name: 'BentoCache knex driver (DatabaseDriver + KnexAdapter)',
    get: (key) => driver.get(key),
    set: (key) => driver.set(key, VALUE_TEXT),
    close: async () => {},
  })

  const keyv = await createKeyv(db)
  if (keyv !== undefined) contenders.push(keyv)
  contenders.push(await createBare(db, sql))
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
    await keyv.set('warm', VALUE_TEXT)
    return {
      name: db.dialect === 'sqlite' ? '@keyv/sqlite 4 (keyv 5)' : '@keyv/postgres 2 (keyv 5)',
      get: (key) => keyv.get(key),
      set: (key) => keyv.set(key, VALUE_TEXT),
      close: () => keyv.disconnect(),
    }
  } catch (error) {
    console.warn(`[bench] ${db.dialect} Keyv adapter unavailable: ${(error as Error).message}`)
    return undefined
  }
}

interface SqliteConnection {
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): unknown }
  close(): void
}

/** The floor: the same statements on the bare driver, no knex in between. */
async function createBare(db: Database, sql: ReturnType<typeof storeSql>): Promise<Contender> {
  if (db.dialect === 'sqlite') {
    const require = createRequire(import.meta.url)
    const Driver = require('better-sqlite3') as new (file: string) => SqliteConnection
    const connection = new Driver(db.sqliteFile as string)
    const get = connection.prepare(sql.get)
    const set = connection.prepare(sql.set)
    return {
      name: 'better-sqlite3 prepared statements (no knex)',
      get: async (key) => (get.get(`bench:${key}`, Date.now()) as { value?: unknown })?.value,
      set: async (key, value) => set.run(`bench:${key}`, Buffer.from(value), null),
      close: async () => connection.close(),
    }
  }
  const client = new pg.Client(db.pgConnection)
  await client.connect()
  return {
    name: 'pg Client, named prepared statements (no knex)',
    get: async (key) =>
      firstValue(
        await client.query({ name: 'get', text: sql.pgGet, values: [`bench:${key}`, Date.now()] }),
      ),
    set: (key, value) =>
      client.query({
        name: 'set',
        text: sql.pgSet,
        values: [`bench:${key}`, Buffer.from(value), null],
      }),
    close: () => client.end(),
  }
}
