import { KnexAccess, type KnexRecordsQuery } from '@cellar/knex'
import { RedisStorageTable } from '@cellar/redis'
import { uniquePrefix, usePostgres, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import knexFactory, { type Knex } from 'knex'
import { afterAll, describe, expect, test } from 'vitest'
import { AllIndexes, CachedTable, timeRangeIndexes } from '../src/index.js'
import {
  collect,
  createOrders,
  type Order,
  openOrders,
  orderQueries,
  readLoop,
} from './fixtures.js'

const redis = await useRedis()
const pg = await usePostgres()
const client = redis ? new Redis(redis.url) : undefined
const tables: RedisStorageTable<Order>[] = []
const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  await Promise.all(tables.map((table) => table.clear()))
  await Promise.all(closers.map((close) => close()))
  await client?.quit()
  await pg?.dispose()
})

function storage(indexes: ConstructorParameters<typeof RedisStorageTable<Order>>[0]) {
  const table = new RedisStorageTable<Order>(indexes, {
    connection: client as Redis,
    name: uniquePrefix('orders').replace(/[{}]/g, ''),
  })
  tables.push(table)
  return table
}

const timeIndexes = () =>
  timeRangeIndexes<Order, KnexRecordsQuery>({
    timestamp: (o) => o.ts,
    primaryKey: (o) => o.id,
    queryIntervals: orderQueries.queryIntervals('ts'),
    queryKeys: orderQueries.queryKeys,
  })

describe.skipIf(!redis || !pg)('CachedTable on RedisStorageTable and PostgreSQL', () => {
  let knex: Knex
  test('load, hits, invalidation with refresh, and a window shift match the database', async () => {
    knex = knexFactory({
      client: 'pg',
      connection: { ...pg!.connection },
      pool: { min: 0, max: 2 },
    })
    closers.push(() => knex.destroy())
    await createOrders(knex, 500)
    const reads: string[] = []
    const indexes = timeIndexes()
    const table = new CachedTable(
      indexes,
      new KnexAccess<Order>(knex, { batchSize: 64 }),
      storage(indexes),
      { metrics: { read: (kind) => reads.push(kind) } },
    )
    await table.load({ indexName: 'time', ge: 10, lt: 3010 })
    const window = await collect(table.getRecords({ indexName: 'time', ge: 1000, lt: 2000 }))
    expect(window.map((o) => o.id)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i))
    // Redis storage answers with a promise only: nothing to peek.
    expect(table.peekRecords({ indexName: 'time', ge: 1000, lt: 2000 })).toBeUndefined()
    expect(await table.getFirstRecord({ indexName: 'primaryKey', keys: [42] })).toMatchObject({
      id: 42,
      ts: 420,
    })
    expect(reads).toEqual(['hit', 'miss'])

    // Row 150 moves to ts 2500 and row 160 is deleted in the database.
    await knex('orders').where('id', 150).update({ ts: 2500, version: 2 })
    await knex('orders').where('id', 160).delete()
    table.invalidateRecords(
      [{ indexName: 'time', ge: 1500, lt: 1610 }],
      [{ indexName: 'time', ge: 2500, lt: 2510 }],
    )
    const moved = await table.collectRecords({ indexName: 'time', ge: 1400, lt: 2600 })
    const fromDb = await knex('orders').where('ts', '>=', 1400).where('ts', '<', 2600).orderBy('ts')
    expect(moved.map((o) => o.id).sort((a, b) => a - b)).toEqual(
      fromDb.map((o: Order) => o.id).sort((a: number, b: number) => a - b),
    )
    expect(reads.at(-1)).toBe('hitWithRefresh')

    await table.adjust({ indexName: 'time', ge: 2010, lt: 5010 })
    expect(await table.collectRecords({ indexName: 'time', ge: 4000, lt: 4100 })).toHaveLength(10)
    expect(reads.at(-1)).toBe('hit')
    await collect(table.getRecords({ indexName: 'time', ge: 10, lt: 100 }))
    expect(reads.at(-1)).toBe('miss')
  })
})

describe.skipIf(!redis)('concurrency on RedisStorageTable', () => {
  test('readers looping during adjust see all old or all new records, never a mix', async () => {
    const db = await openOrders(300)
    closers.push(db.close)
    const indexes = new AllIndexes<Order, KnexRecordsQuery>({
      primaryKey: (o) => o.id,
      ...orderQueries,
    })
    const table = new CachedTable(indexes, db.access, storage(indexes))
    await table.load({ indexName: 'all' })
    await db.knex('orders').update({ version: 2 })
    const adjusting = table.adjust({ indexName: 'all' })
    const keys = Array.from({ length: 20 }, (_, i) => 1 + i * 15)
    const read = () => collect(table.getRecords({ indexName: 'primaryKey', keys }))
    const tallies = await Promise.all([1, 2, 3].map(() => readLoop(read, 20, adjusting)))
    await adjusting
    for (const tally of tallies) {
      expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
      expect(tally.readsBeforeDone).toBeGreaterThan(1)
    }
    const after = await collect(table.getRecords({ indexName: 'all' }))
    expect(after).toHaveLength(300)
    expect(after.every((o) => o.version === 2)).toBe(true)
  })

  test('readers looping during a window shift always get the whole overlap', async () => {
    const db = await openOrders(300)
    closers.push(db.close)
    const indexes = timeIndexes()
    const table = new CachedTable(indexes, db.access, storage(indexes))
    await table.load({ indexName: 'time', ge: 10, lt: 2010 })
    const adjusting = table.adjust({ indexName: 'time', ge: 1010, lt: 3010 })
    const tally = await readLoop(
      () => collect(table.getRecords({ indexName: 'time', ge: 1010, lt: 2010 })),
      100,
      adjusting,
    )
    expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
    expect(tally.readsBeforeDone).toBeGreaterThan(0)
  })
})
