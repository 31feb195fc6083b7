// Issue #15's Redis target in one process: the SQL query of bench.ts (PostgreSQL, the seeded
// 1,000,000-row table) against CachedTable `for await` on RedisStorageTable, this build and an
// older one (BENCH_BEFORE=<packages/redis/dist/index.js of that build>), and a raw-ioredis floor
// doing the commands of this build's read with the same codec. Each Redis table holds `rows`
// rows of the same shape as PostgreSQL's (loaded from memory, on a private redis-server), so
// no load through SQL is needed. Paired: every iteration calls each contender once, in a
// shuffled order, each on its own range or keys; the ratio is the median of `SQL ÷ contender`.
// Usage: [BENCH_IOREDIS=5] BENCH_PG_DATABASE=cellar_bench_tablecache node --import tsx src/redis-vs-sql.ts [rows] [iterations]
import { RedisStorageTable } from '@cellar/redis'
import { CachedTable, primaryKeyRangeIndexes } from '@cellar/tablecache'
import { startRedis, usePostgres } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { Redis as Redis5 } from 'ioredis5'
import createKnex from 'knex'
import { type Contender, contender, load, measure, table } from './paired.js'
import { type Query, type Row, rowsDb, tableRowDecoder } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 100_000)
const ITERATIONS = Number(process.argv[3] ?? 1_000)
const database = process.env.BENCH_PG_DATABASE ?? 'cellar_bench_tablecache'

const db = rowsDb(ROWS)
const makeIndexes = () =>
  primaryKeyRangeIndexes<Row, Query>({
    primaryKey: (r) => r.id,
    queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
    queryKeys: (keys) => keys.map(Number),
  })

function touch(records: Iterable<Row>): number {
  let n = 0
  let sum = 0
  for (const r of records) {
    sum += r.amount
    n++
  }
  return sum < 0 ? -1 : n
}
async function drain(records: AsyncIterable<Row>): Promise<number> {
  let n = 0
  let sum = 0
  for await (const r of records) {
    sum += r.amount
    n++
  }
  return sum < 0 ? -1 : n
}
const expect = (n: number) => (count: number) => {
  if (count !== n) throw new Error(`a read returned ${count} records, not ${n}`)
}

const pg = await usePostgres()
if (pg === undefined) throw new Error('PostgreSQL is needed')
const knex = createKnex({
  client: 'pg',
  connection: { ...pg.connection, database },
  pool: { min: 1, max: 4 },
})
const server = await startRedis()
// BENCH_IOREDIS=5: every Redis contender on ioredis 5 (the oldest of the peer range) instead of 6.
const major = process.env.BENCH_IOREDIS ?? '6'
if (major !== '5' && major !== '6') throw new Error('BENCH_IOREDIS must be 5 or 6')
const client = (major === '5' ? new Redis5(server.url) : new Redis(server.url)) as Redis
try {
  type TableClass = typeof RedisStorageTable
  const builds: Array<[string, TableClass]> = [['this build', RedisStorageTable]]
  const before = process.env.BENCH_BEFORE
  if (before !== undefined && before !== '') {
    const old = (await import(before)) as { RedisStorageTable: TableClass }
    builds.push(['before', old.RedisStorageTable])
  }
  const tables: Array<[string, CachedTable<Row, Query>, RedisStorageTable<Row>]> = []
  for (const [name, Table] of builds) {
    const indexes = makeIndexes()
    const storage = new Table<Row>(indexes, { connection: client, name: `vs-sql-${tables.length}` })
    await storage.clear()
    const cached = new CachedTable(indexes, db, storage)
    await cached.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
    tables.push([name, cached, storage])
  }
  const [, cached0, storage0] = tables[0] as [
    string,
    CachedTable<Row, Query>,
    RedisStorageTable<Row>,
  ]
  const current = { cached: cached0, storage: storage0 }
  const [rowsKey, rangeIndex] = storage0.keys as [string, string]
  const decode = tableRowDecoder()

  // Own range / keys per contender and iteration; the SQL reads the table's first half, as bench.ts.
  const at = (i: number, k: number) => 8 * i + k
  const rangeStart = (n: number) => 1 + ((n * 7_919) % (ROWS - 200))
  const keys = (n: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + (((n * 50 + j) * 104_729) % ROWS))
  // The load wrote every row in one generation: the raw HMGET names fields `<generation>:<id>`.
  const sample = (await client.hrandfield(rowsKey)) as string
  const generation = sample.slice(0, sample.indexOf(':'))
  const lists: Array<[string, Contender[]]> = [
    [
      '100-record range',
      [
        contender('SQL (knex)', async (i) => {
          const ge = rangeStart(at(i, 0))
          expect(100)(
            touch(
              await knex('bench_orders')
                .where('id', '>=', ge)
                .where('id', '<', ge + 100),
            ),
          )
        }),
        ...tables.map(([name, cached], k) =>
          contender(`Redis ${name}, for await`, async (i) => {
            const ge = rangeStart(at(i, k + 1))
            expect(100)(
              await drain(cached.getRecords({ indexName: 'primaryKeyRange', ge, lt: ge + 100 })),
            )
          }),
        ),
        // This build without CachedTable's `for await`: its collectRecords, and the storage alone.
        contender('Redis this build, collectRecords', async (i) => {
          const ge = rangeStart(at(i, 5))
          const spec = { indexName: 'primaryKeyRange', ge, lt: ge + 100 }
          expect(100)(touch(await current.cached.collectRecords(spec)))
        }),
        contender('RedisStorageTable.getRecords alone', async (i) => {
          const ge = rangeStart(at(i, 6))
          const spec = { indexName: 'primaryKeyRange', scoreIntervals: [{ ge, lt: ge + 100 }] }
          expect(100)(touch(await current.storage.getRecords(spec)))
        }),
        contender('raw ioredis: ZRANGEBYSCORE of this layout, decode', async (i) => {
          const ge = rangeStart(at(i, 7))
          const members = await client.zrangebyscoreBuffer(rangeIndex, ge, `(${ge + 100}`)
          const out: Row[] = []
          for (const m of members) {
            const colon = m.indexOf(58)
            out.push(decode(m, colon + 1 + Number(m.toString('latin1', 0, colon))))
          }
          expect(100)(touch(out))
        }),
      ],
    ],
    [
      '50 records by primary key',
      [
        contender('SQL (knex)', async (i) => {
          expect(50)(touch(await knex('bench_orders').whereIn('id', keys(at(i, 0)))))
        }),
        ...tables.map(([name, cached], k) =>
          contender(`Redis ${name}, for await`, async (i) => {
            expect(50)(
              await drain(cached.getRecords({ indexName: 'primaryKey', keys: keys(at(i, k + 1)) })),
            )
          }),
        ),
        contender('Redis this build, collectRecords', async (i) => {
          const spec = { indexName: 'primaryKey', keys: keys(at(i, 5)) }
          expect(50)(touch(await current.cached.collectRecords(spec)))
        }),
        contender('RedisStorageTable.getRecords alone', async (i) => {
          const primaryKeys = keys(at(i, 6)).map(String)
          const spec = { indexName: 'primaryKey', scoreIntervals: [], primaryKeys }
          expect(50)(touch(await current.storage.getRecords(spec)))
        }),
        contender('raw ioredis: HMGET, decode', async (i) => {
          const fields = keys(at(i, 7)).map((id) => `${generation}:${id}`)
          const rows = await client.hmgetBuffer(rowsKey, ...fields)
          const out: Row[] = []
          for (const bytes of rows) if (bytes !== null) out.push(decode(bytes, 0))
          expect(50)(touch(out))
        }),
      ],
    ],
  ]
  console.log(
    `rows ${ROWS} per Redis table, ${ITERATIONS} iterations, ioredis ${major}, PostgreSQL database ${database}`,
  )
  for (const [title, list] of lists) {
    const startLoad = load()
    await measure(list, ITERATIONS)
    console.log(table(title, startLoad, list[0] as Contender, list))
  }
  for (const [, , storage] of tables) await storage.clear()
} finally {
  await client.quit()
  await server.stop()
  await knex.destroy()
}
