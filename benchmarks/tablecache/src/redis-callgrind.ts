// redis-server instructions per RedisStorageTable read (load-independent): one private
// redis-server under `valgrind --tool=callgrind`, a table per build (this one, and BENCH_BEFORE=
// <an older packages/redis/dist/index.js>) holding the same rows, then per build and kind of read:
// counters zeroed (`callgrind_control -z`), the reads, a dump (`-d`); an idle span of the same
// length is measured after each and taken off (the server's own timers).
// Usage: node --import tsx src/redis-callgrind.ts [rows] [reads]
import { loadavg } from 'node:os'
import { RedisStorageTable } from '@cellar/redis'
import { primaryKeyRangeIndexes } from '@cellar/tablecache'
import { Redis } from 'ioredis'
import { type Row, row } from './redis-row.js'
import { startTracedRedis } from './server-callgrind.js'

const ROWS = Number(process.argv[2] ?? 20_000)
const READS = Number(process.argv[3] ?? 500)

const server = await startTracedRedis('table-cost')
const client = new Redis(server.url)
try {
  type TableClass = typeof RedisStorageTable
  const builds: Array<[string, TableClass]> = [['this build', RedisStorageTable]]
  const before = process.env.BENCH_BEFORE
  if (before !== undefined && before !== '') {
    builds.push([
      'before',
      ((await import(before)) as { RedisStorageTable: TableClass }).RedisStorageTable,
    ])
  }
  const tables: Array<[string, RedisStorageTable<Row>]> = []
  for (const [name, Table] of builds) {
    const indexes = primaryKeyRangeIndexes<Row, unknown>({
      primaryKey: (r) => r.id,
      queryIntervals: (intervals) => intervals,
      queryKeys: (keys) => keys,
    })
    const table = new Table<Row>(indexes, { connection: client, name: `cost-${tables.length}` })
    await table.clear()
    for (let id = 1; id <= ROWS; id++) await table.scratchPutRecord(row(id))
    await table.scratchMerge()
    tables.push([name, table])
  }
  const start = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
  const reads: Array<[string, number, (t: RedisStorageTable<Row>, i: number) => Promise<Row[]>]> = [
    [
      '100-record range',
      100,
      (t, i) =>
        t.getRecords({
          indexName: 'primaryKeyRange',
          scoreIntervals: [{ ge: start(i), lt: start(i) + 100 }],
        }),
    ],
    [
      '50 keys',
      50,
      (t, i) =>
        t.getRecords({
          indexName: 'primaryKey',
          scoreIntervals: [],
          primaryKeys: Array.from({ length: 50 }, (_, j) =>
            String(1 + (((i * 50 + j) * 104_729) % ROWS)),
          ),
        }),
    ],
  ]
  console.log(`rows ${ROWS}, ${READS} reads each; load ${loadavg()[0]?.toFixed(2)}`)
  console.log('| read | build | redis-server instructions per read |')
  console.log('| --- | --- | ---: |')
  for (const [kind, want, read] of reads) {
    for (const [name, table] of tables) {
      for (let i = 0; i < 50; i++) await read(table, i)
      const perRead = await server.perCall(READS, async (i) => {
        if ((await read(table, i)).length !== want) throw new Error(`${name}: short read`)
      })
      console.log(`| ${kind} | ${name} | ${Math.round(perRead)} |`)
    }
  }
  for (const [, table] of tables) await table.clear()
} finally {
  client.disconnect()
  await server.stop()
}
