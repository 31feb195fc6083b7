import type { KnexRecordsQuery } from '@cellar/knex'
import { KnexAccess } from '@cellar/knex'
import { useMysql, usePostgres } from '@cellar/test-servers'
import knexFactory, { type Knex } from 'knex'
import { afterAll, describe, expect, test } from 'vitest'
import {
  AllIndexes,
  CachedTable,
  LocalStorageTable,
  PrimaryKeyIndexes,
  primaryKeyRangeIndexes,
  timeRangeIndexes,
} from '../src/index.js'
import { collect, type Order, openOrders, orderQueries } from './fixtures.js'

const pg = await usePostgres()
const mysql = await useMysql()
const opened: Knex[] = []
afterAll(async () => {
  await Promise.all(opened.splice(0).map((k) => k.destroy()))
  await Promise.all([pg?.dispose(), mysql?.dispose()])
})

const ROWS = 1_000
const keyed = { primaryKey: (o: Order) => o.id, ...orderQueries }

// Every built-in index, the request it is loaded with and the SQL its DB spec becomes on PostgreSQL.
const cases = [
  {
    name: 'AllIndexes',
    make: () => new AllIndexes<Order, KnexRecordsQuery>(keyed),
    load: { indexName: 'all' },
    read: { indexName: 'primaryKey', keys: [7, 9] },
    sql: 'select * from "orders" where "id" in (?, ?)',
  },
  {
    name: 'PrimaryKeyIndexes',
    make: () => new PrimaryKeyIndexes<Order, KnexRecordsQuery>(keyed),
    load: { indexName: 'primaryKey', keys: [7, 9, 11] },
    read: { indexName: 'primaryKey', keys: [7, 9] },
    sql: 'select * from "orders" where "id" in (?, ?)',
  },
  {
    name: 'primaryKeyRangeIndexes',
    make: () =>
      primaryKeyRangeIndexes<Order, KnexRecordsQuery>({
        primaryKey: (o) => o.id,
        queryIntervals: orderQueries.queryIntervals('id'),
        queryKeys: orderQueries.queryKeys,
      }),
    load: { indexName: 'primaryKeyRange', ge: 1, lt: 500 },
    read: { indexName: 'primaryKeyRange', ge: 100, lt: 200 },
    sql: 'select * from "orders" where (("id" >= ? and "id" < ?))',
  },
  {
    name: 'timeRangeIndexes',
    make: () =>
      timeRangeIndexes<Order, KnexRecordsQuery>({
        timestamp: (o) => o.ts,
        primaryKey: (o) => o.id,
        queryIntervals: orderQueries.queryIntervals('ts'),
        queryKeys: orderQueries.queryKeys,
      }),
    load: { indexName: 'time', ge: 10, lt: 5010 },
    read: { indexName: 'time', ge: 1000, lt: 2000 },
    sql: 'select * from "orders" where (("ts" >= ? and "ts" < ?))',
  },
] as const

describe('index → SQL mapping (PostgreSQL syntax)', () => {
  const sqlOnly = knexFactory({ client: 'pg' })
  for (const c of cases) {
    test(c.name, () => {
      const query = c.make().dbRecordsSpec(c.read).query
      const builder = typeof query === 'function' ? query(sqlOnly) : query
      expect(builder.toSQL().sql).toBe(c.sql)
    })
  }
})

async function seeded(kind: 'pg' | 'mysql'): Promise<Knex | undefined> {
  const database = kind === 'pg' ? pg : mysql
  if (database === undefined) return undefined
  const knex = knexFactory({
    client: kind === 'pg' ? 'pg' : 'mysql2',
    connection: { ...database.connection },
    pool: { min: 0, max: 2 },
  })
  opened.push(knex)
  await knex.schema.dropTableIfExists('orders')
  await knex.schema.createTable('orders', (t) => {
    t.integer('id').primary()
    t.integer('ts').notNullable()
    t.integer('amount').notNullable()
    t.integer('version').notNullable()
  })
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    id: i + 1,
    ts: (i + 1) * 10,
    amount: i,
    version: 1,
  }))
  await knex.batchInsert('orders', rows, 250)
  return knex
}

const dialects = [
  { name: 'SQLite', open: async () => (await openOrders(ROWS)).knex },
  { name: 'PostgreSQL', open: () => seeded('pg'), skip: pg === undefined },
  { name: 'MariaDB', open: () => seeded('mysql'), skip: mysql === undefined },
]

for (const dialect of dialects) {
  describe.skipIf(dialect.skip === true)(
    `built-in indexes through KnexAccess on ${dialect.name}`,
    () => {
      test('each index loads and serves its request; batches stream through', async () => {
        const knex = (await dialect.open()) as Knex
        if (dialect.name === 'SQLite') opened.push(knex)
        let queries = 0
        const sqls: string[] = []
        knex.on('query', (query: { sql: string }) => {
          queries++
          sqls.push(query.sql)
        })
        for (const c of cases) {
          const indexes = c.make()
          const access = new KnexAccess<Order>(knex, { batchSize: 64 })
          const table = new CachedTable(indexes, access, new LocalStorageTable(indexes))
          queries = 0
          await table.load(c.load)
          // AllIndexes loads 1,000 rows: at least 16 keyset batches of 64, never one big result.
          if (c.name === 'AllIndexes') expect(queries).toBeGreaterThanOrEqual(Math.ceil(ROWS / 64))
          const fromStorage = await collect(table.getRecords(c.read))
          sqls.length = 0
          const fromDb = await collect(access.getRecords(indexes.dbRecordsSpec(c.read)))
          // What KnexAccess sends: the index's query as a derived table, one keyset batch at a time.
          if (dialect.name === 'PostgreSQL') {
            expect(sqls[0]?.replace(/\$\d+/g, '?'), c.name).toBe(
              `select * from (${c.sql}) as "cellar_records" order by "id" asc limit ?`,
            )
          }
          const sorted = (orders: Order[]) => orders.map((o) => Number(o.id)).sort((x, y) => x - y)
          expect(sorted(fromStorage), c.name).toEqual(sorted(fromDb))
          expect(fromStorage.length, c.name).toBeGreaterThan(0)
        }
      })
    },
  )
}
