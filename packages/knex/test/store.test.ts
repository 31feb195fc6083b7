import { setTimeout as sleep } from 'node:timers/promises'
import { decodeCounter } from '@cellar/core'
import type { Knex } from 'knex'
import { describe, expect, test, vi } from 'vitest'
import { createTable, dropTable, KnexStore, type KnexStoreOptions } from '../src/index.js'
import { bytes, randomPrefix, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()

/** A clock moved by hand: the only clock the store consults for expiry. */
function clock(start: number) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

async function countRows(knex: Knex, table: string): Promise<number> {
  const rows = await knex(table).count({ count: '*' })
  return Number(rows[0]?.count)
}

let tables = 0
/** Options for a store on tables of its own (so table-level tests don't meet each other). */
function own(knex: Knex, extra: Partial<KnexStoreOptions> = {}): KnexStoreOptions {
  tables++
  return {
    knex,
    tableName: `t${tables}_${process.pid}_cache`,
    lockTableName: `t${tables}_${process.pid}_locks`,
    pruneInterval: false,
    ...extra,
  }
}

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore specifics on ${name}`, () => {
    if (target === undefined) return
    const knex = open(target)

    test('expiry follows the application clock passed as a parameter, not the database clock', async () => {
      // The injected clock sits in the year 2001: by the database's clock everything written
      // here expired long ago, so a hit proves the store compared against the given clock.
      const time = clock(Date.UTC(2001, 0, 1))
      const store = new KnexStore(own(knex, { now: time.now }))
      await store.set('k', bytes('v'), 1_000)
      time.advance(999)
      expect(text(await store.get('k'))).toBe('v')
      expect(await store.has('k')).toBe(true)
      time.advance(2)
      expect(await store.get('k')).toBeUndefined()
      expect(await store.getMany(['k'])).toEqual([undefined])
      const [row] = await knex(store.tableName).select('expires_at')
      expect(Number(row.expires_at)).toBe(Date.UTC(2001, 0, 1) + 1_000)
      await store.close()
    })

    test('increment keeps the remaining TTL and restarts an expired counter at 0 without expiry', async () => {
      const time = clock(Date.now())
      const store = new KnexStore(own(knex, { now: time.now }))
      await store.set('n', bytes('41'), 100)
      time.advance(60)
      expect(await store.increment('n')).toBe(42)
      time.advance(40)
      expect(decodeCounter(await store.get('n'))).toBe(42)
      time.advance(1)
      expect(await store.get('n')).toBeUndefined()
      // Expired but still in the table: the counter starts over and has no expiry.
      expect(await store.increment('n', 5)).toBe(5)
      time.advance(10_000_000)
      expect(decodeCounter(await store.get('n'))).toBe(5)
      await store.close()
    })

    test('counters are stored as decimal ASCII bytes', async () => {
      const store = new KnexStore(own(knex))
      await store.increment('c', -12)
      const [row] = await knex(store.tableName).select('value')
      expect(Buffer.from(row.value).toString('latin1')).toBe('-12')
      await store.set('c', bytes('7'))
      expect(await store.increment('c', 3)).toBe(10)
      await store.close()
    })

    test('a non-canonical counter or an overflowing sum is refused by the statement and the value stays', async () => {
      const store = new KnexStore(own(knex))
      const odds = [
        '12abc',
        ' 12',
        '12\n',
        '1e3',
        '--1',
        '',
        '\u0000',
        '007',
        '+5',
        ' 5',
        '5 ',
        '-0',
      ]
      for (const odd of [...odds, '-007', '00', '1'.repeat(18), `1\u00e9`]) {
        await store.set('odd', bytes(odd))
        await expect(store.increment('odd')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
        expect(text(await store.get('odd'))).toBe(odd)
      }
      await store.set('big', bytes(String(Number.MAX_SAFE_INTEGER - 1)))
      await expect(store.increment('big', 2)).rejects.toMatchObject({
        code: 'E_NOT_A_NUMBER',
        key: 'big',
      })
      expect(text(await store.get('big'))).toBe(String(Number.MAX_SAFE_INTEGER - 1))
      expect(await store.increment('big', 1)).toBe(Number.MAX_SAFE_INTEGER)
      await store.set('small', bytes(String(-Number.MAX_SAFE_INTEGER)))
      await expect(store.increment('small', -1)).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
      expect(text(await store.get('small'))).toBe(String(-Number.MAX_SAFE_INTEGER))
      await store.close()
    })

    test('clear matches the prefix literally: %, _ and the escape character match only themselves', async () => {
      const base = randomPrefix('like')
      const mine = new KnexStore({ knex, prefix: `${base}a%b_c!d\\:`, pruneInterval: false })
      const neighbours = [
        `${base}aXbYc!d\\:`, // % and _ as wildcards would match this
        `${base}a%b_c!!d\\:`,
        `${base}A%B_C!D\\:`, // SQLite's LIKE folds ASCII case
        `${base}a%b_c!d\\`,
      ].map((prefix) => new KnexStore({ knex, prefix, pruneInterval: false }))
      await mine.set('k', bytes('mine'))
      for (const store of neighbours) await store.set('k', bytes('theirs'))
      await mine.clear()
      expect(await mine.get('k')).toBeUndefined()
      for (const store of neighbours) expect(text(await store.get('k'))).toBe('theirs')
      for (const store of [mine, ...neighbours]) {
        await store.clear()
        await store.close()
      }
    })

    test('getMany, setMany and deleteMany split long lists into batches', async () => {
      const store = new KnexStore(own(knex, { batchSize: 7 }))
      const keys = Array.from({ length: 50 }, (_, i) => `k${i}`)
      await store.setMany(keys.map((key) => [key, bytes(key)]))
      const values = await store.getMany([...keys, 'missing', 'k3'])
      expect(values.map(text)).toEqual([...keys, undefined, 'k3'])
      expect(await store.deleteMany([...keys.slice(0, 30), 'missing'])).toBe(30)
      expect(await countRows(knex, store.tableName)).toBe(20)
      await store.close()
    })

    test('setMany over several batches is all-or-nothing', async () => {
      const store = new KnexStore(own(knex, { batchSize: 2 }))
      await store.set('keep', bytes('old'))
      // Dropping the table mid-batch is not possible portably; a value the database refuses is:
      // the store validates everything first, so a bad entry must leave everything untouched.
      const entries: Array<[string, Uint8Array]> = [
        ['a', bytes('1')],
        ['keep', bytes('new')],
        ['c', 'not bytes' as unknown as Uint8Array],
      ]
      await expect(store.setMany(entries)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
      expect(text(await store.get('keep'))).toBe('old')
      expect(await store.get('a')).toBeUndefined()
      await store.close()
    })

    test('the periodic sweep deletes expired rows and close() stops it', async () => {
      const time = clock(Date.now())
      const store = new KnexStore(own(knex, { now: time.now, pruneInterval: 20 }))
      await store.set('gone', bytes('1'), 50)
      await store.set('kept', bytes('2'))
      time.advance(51)
      const count = () => countRows(knex, store.tableName)
      await vi.waitFor(async () => expect(await count()).toBe(1), { timeout: 10_000 })
      await store.close()
      await knex(store.tableName).insert({
        key: `${store.prefix}late`,
        value: Buffer.from('x'),
        expires_at: 1,
      })
      await sleep(200)
      expect(await count()).toBe(2)
    })

    test('close() lets a sweep in flight stop before it resolves: nothing is deleted afterwards', async () => {
      const time = clock(Date.now())
      const store = new KnexStore(own(knex, { now: time.now }))
      await store.set('gone', bytes('1'), 10)
      time.advance(11)
      const pass = store.prune()
      await store.close()
      const late = `${store.prefix}late`
      await knex(store.tableName).insert({ key: late, value: Buffer.from('x'), expires_at: 1 })
      await pass
      expect(await knex(store.tableName).where('key', late).select('key')).toHaveLength(1)
    })

    test('prune() deletes expired rows of the whole table and resolves how many', async () => {
      const time = clock(Date.now())
      const store = new KnexStore(own(knex, { now: time.now }))
      const other = store.namespace('other')
      await store.set('a', bytes('1'), 10)
      await other.set('b', bytes('2'), 10)
      await store.set('c', bytes('3'))
      time.advance(10)
      expect(await store.prune()).toBe(0) // alive through now == expiry
      time.advance(1)
      expect(await store.prune()).toBe(2)
      expect(text(await store.get('c'))).toBe('3')
      await store.close()
    })

    test('close() never destroys a knex instance it was given', async () => {
      const store = new KnexStore(own(knex))
      await store.set('k', bytes('v'))
      await store.close()
      await store.close()
      await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      const [row] = await knex(store.tableName).select('value')
      expect(text(row.value)).toBe('v')
    })

    test('autoCreateTable off: a missing table is a typed error until createTable runs', async () => {
      const options = own(knex, { autoCreateTable: false })
      const store = new KnexStore(options)
      const error = await store.get('k').catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', key: 'k' })
      expect((error as Error).message).toMatch(/createTable/)
      expect((error as Error).cause).toBeInstanceOf(Error)
      await createTable(knex, options)
      await createTable(knex, options) // idempotent
      await store.set('k', bytes('v'))
      expect(text(await store.get('k'))).toBe('v')
      await dropTable(knex, options)
      expect(await knex.schema.hasTable(options.tableName as string)).toBe(false)
      await store.close()
    })

    test('createTable runs inside a knex migration', async () => {
      const options = own(knex, { autoCreateTable: false })
      const migrationSource = {
        getMigrations: async () => ['001_cellar_cache'],
        getMigrationName: (migration: string) => migration,
        getMigration: async () => ({
          up: (trx: Knex) => createTable(trx, options),
          down: (trx: Knex) => dropTable(trx, options),
        }),
      }
      const tableName = `migrations_${tables}_${process.pid}`
      await knex.migrate.latest({ migrationSource, tableName })
      const store = new KnexStore(options)
      await store.set('k', bytes('v'))
      expect(text(await store.get('k'))).toBe('v')
      await store.close()
      await knex.migrate.rollback({ migrationSource, tableName }, true)
      expect(await knex.schema.hasTable(options.tableName as string)).toBe(false)
    })

    test('lazy creation survives stores on separate knex instances racing to create the tables', async () => {
      const others = [open(target), open(target), open(target)]
      for (let round = 0; round < 5; round++) {
        const options = own(knex)
        const stores = [knex, ...others].map(
          (instance) => new KnexStore({ ...options, knex: instance }),
        )
        const results = await Promise.all(
          stores.map((store, i) => store.add('first', bytes(String(i)))),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        await Promise.all(stores.map((store) => store.close()))
      }
    })

    test('the tables have the documented column types', async () => {
      const store = new KnexStore(own(knex))
      await store.set('k', bytes('v'))
      const info = await knex(store.tableName).columnInfo()
      const types = Object.fromEntries(
        Object.entries(info).map(([column, about]) => [column, about.type.toLowerCase()]),
      )
      const expected = {
        sqlite: { key: 'text', value: 'blob', expires_at: 'integer' },
        pg: { key: 'text', value: 'bytea', expires_at: 'bigint' },
        mysql: { key: 'varbinary', value: 'longblob', expires_at: 'bigint' },
      }[target.kind]
      expect(types).toEqual(expected)
      expect(info.expires_at?.nullable).toBe(true)
      if (target.kind === 'mysql') expect(info.key?.maxLength).toBe(1024 + 256)
      await store.close()
    })

    test('keys keep case and trailing spaces distinct (binary key comparison)', async () => {
      const store = new KnexStore(own(knex))
      await store.setMany([
        ['Key', bytes('1')],
        ['key', bytes('2')],
        ['key ', bytes('3')],
      ])
      expect((await store.getMany(['Key', 'key', 'key '])).map(text)).toEqual(['1', '2', '3'])
      await store.close()
    })

    test('a prefix longer than maxPrefixLength is refused up front', () => {
      if (target.kind === 'sqlite') {
        expect(new KnexStore(own(knex)).capabilities.maxKeyLength).toBe(Number.POSITIVE_INFINITY)
        return
      }
      const store = new KnexStore(own(knex, { maxPrefixLength: 8 }))
      expect(() => store.namespace('nine-byte')).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
      )
      expect(store.namespace('seven').capabilities.maxKeyLength).toBe(
        store.capabilities.maxKeyLength,
      )
    })
  })
}

describe('KnexStore with a knex config', () => {
  test('creates its own knex from the config and destroys it on close', async () => {
    const store = new KnexStore({
      knex: {
        client: 'better-sqlite3',
        connection: { filename: ':memory:' },
        useNullAsDefault: true,
      },
      pruneInterval: false,
    })
    expect(store.capabilities.sharedAcrossProcesses).toBe(false)
    await store.set('k', bytes('v'))
    expect(text(await store.get('k'))).toBe('v')
    await store.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('rejects impossible options with a precise message', () => {
    const knex = {
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    }
    expect(() => new KnexStore({} as KnexStoreOptions)).toThrow(/options.knex is required/)
    expect(() => new KnexStore({ knex, batchSize: 0 })).toThrow(/batchSize/)
    expect(() => new KnexStore({ knex, pruneInterval: -1 })).toThrow(/pruneInterval/)
    expect(() => new KnexStore({ knex, tableName: 'a.b.c' })).toThrow(/tableName/)
    expect(() => new KnexStore({ knex, maxKeyLength: 0 })).toThrow(/maxKeyLength/)
    expect(() => new KnexStore({ knex: { client: 'oracledb' } as Knex.Config })).toThrow()
  })
})
