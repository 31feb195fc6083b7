// Two builds of @cellar/tablecache over `RedisStorageTable` (this checkout's @cellar/redis), side by
// side in one process and paired call by call: a 100-record range and 50 keys by `for await` and
// `collectRecords`, each build's table holding the same rows on one private redis-server, each
// read its own range or keys. What differs is `CachedTable`'s part of a Redis read; the
// `collectRecords` tables add the storage's `getRecords` alone (no `CachedTable`).
// Usage: BENCH_BEFORE=/tmp/before/dist/index.js node --import tsx src/redis-before-after.ts \
//   [rows=20000] [iterations=3000]   (the before build's directory needs a node_modules with
// sorted-btree, e.g. a symlink to packages/tablecache/node_modules)
import type { IndexSpec } from '@cellar/core'
import { RedisStorageTable } from '@cellar/redis'
import * as current from '@cellar/tablecache'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { type Contender, load, measure, preparedContender, table } from './paired.js'
import { type Query, type Row, rowsDb } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 20_000)
const ITERATIONS = Number(process.argv[3] ?? 3_000)
const before = process.env.BENCH_BEFORE
if (before === undefined || before === '') throw new Error('BENCH_BEFORE=<dist/index.js> is needed')
type Build = typeof current

const db = rowsDb(ROWS)
let checksum = 0
const touch = (records: readonly Row[]) => {
  for (const r of records) checksum += r.amount
  return records.length
}
const drain = async (records: AsyncIterable<Row>) => {
  let n = 0
  for await (const r of records) {
    checksum += r.amount
    n++
  }
  return n
}

const server = await startRedis()
const redis = new Redis(server.url)
try {
  const builds: Array<[string, Build]> = [
    ['before', (await import(before)) as Build],
    ['after', current],
  ]
  const tables = []
  const storages = []
  for (const [name, build] of builds) {
    const indexes = build.primaryKeyRangeIndexes<Row, Query>({
      primaryKey: (r) => r.id,
      queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
      queryKeys: (keys) => keys.map(Number),
    })
    const storage = new RedisStorageTable<Row>(indexes, { connection: redis, name })
    const cached = new build.CachedTable(indexes, db, storage)
    await cached.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
    tables.push([name, cached] as const)
    storages.push([indexes, storage] as const)
  }
  const range = (i: number): IndexSpec => {
    const ge = 1 + ((i * 7_919) % (ROWS - 200))
    return { indexName: 'primaryKeyRange', ge, lt: ge + 100 }
  }
  const keys = (i: number): IndexSpec => ({
    indexName: 'primaryKey',
    keys: Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % ROWS)),
  })
  for (const [what, n, spec] of [
    ['100-record range', 100, range],
    ['50 records by primary key', 50, keys],
  ] as const) {
    for (const how of ['for await', 'collectRecords'] as const) {
      // Each build reads its own range or keys in an iteration (k), as in bench.ts.
      const list: Contender[] = tables.map(([name, cached], k) =>
        preparedContender(
          `${name} ${how}`,
          (i) => spec(3 * i + k),
          async (s) => {
            const got =
              how === 'for await'
                ? await drain(cached.getRecords(s))
                : touch(await cached.collectRecords(s))
            if (got !== n) throw new Error(`a read returned ${got} records, not ${n}`)
          },
        ),
      )
      // The after build's storage read alone (its spec built untimed): the floor under both.
      if (how === 'collectRecords') {
        const [indexes, storage] = storages[1] as (typeof storages)[number]
        list.push(
          preparedContender(
            'storage.getRecords alone',
            (i) => indexes.storageRecordsSpec(spec(3 * i + 2)),
            async (s) => {
              const got = touch(await storage.getRecords(s))
              if (got !== n) throw new Error(`a read returned ${got} records, not ${n}`)
            },
          ),
        )
      }
      const startLoad = load()
      await measure(list, ITERATIONS, 300)
      console.log(table(what, startLoad, list[0] as Contender, list))
    }
  }
  if (checksum === 0) console.log('(no field was read)')
} finally {
  await redis.quit()
  await server.stop()
}
