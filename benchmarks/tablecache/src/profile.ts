// The local read path alone, for `node --cpu-prof`: CachedTable over LocalStorageTable, loaded
// from an in-memory DbAccess (no database, so the profile shows only the cache's own work).
// Usage: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/profile.ts [rows] [reads]
import { performance } from 'node:perf_hooks'
import type { DbAccess, DbRecordsSpec } from '@cellar/core'
import { CachedTable, LocalStorageTable, primaryKeyRangeIndexes } from '@cellar/tablecache'
import { profiled } from './cpu-profile.js'
import { load } from './paired.js'

const ROWS = Number(process.argv[2] ?? 500_000)
const READS = Number(process.argv[3] ?? 20_000)

interface Row {
  id: number
  ts: number
  amount: number
  note: string
}
type Query = { ge: number; lt: number }[] | number[]

const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({
  id: i + 1,
  ts: (i + 1) * 10,
  amount: (i * 7919) % 1000,
  note: `order ${i + 1}`,
}))
const db: DbAccess<Row, Query> = {
  async *getRecords(spec: DbRecordsSpec<Query>) {
    const query = spec.query
    if (typeof query[0] === 'number') {
      for (const id of query as number[]) if (rows[id - 1]) yield rows[id - 1] as Row
      return
    }
    for (const { ge, lt } of query as { ge: number; lt: number }[]) {
      for (let id = Math.max(1, Math.ceil(ge)); id < lt && id <= ROWS; id++)
        yield rows[id - 1] as Row
    }
  },
}
const indexes = primaryKeyRangeIndexes<Row, Query>({
  primaryKey: (r) => r.id,
  queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
  queryKeys: (keys) => keys.map(Number),
})
const storage = new LocalStorageTable(indexes)
const table = new CachedTable(indexes, db, storage)
await table.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
// The load's rows reach the row map in slices between event loop turns, which the read loops
// below (promise jobs only) never give; a direct write waits for that fold, so reads don't go
// through the merge's overlay map. Re-putting a stored record changes nothing else.
const first = await storage.getRecord('1')
if (first !== undefined) await storage.putRecord(first)
const rangeStart = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
const keys = (i: number) =>
  Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % ROWS))

console.log(`rows ${ROWS}, reads ${READS}, load average ${load()}`)
for (const [name, read] of [
  [
    'range 100, for await',
    async (i: number) => {
      let n = 0
      for await (const _ of table.getRecords({
        indexName: 'primaryKeyRange',
        ge: rangeStart(i),
        lt: rangeStart(i) + 100,
      }))
        n++
      return n
    },
  ],
  [
    'range 100, collectRecords',
    async (i: number) =>
      (
        await table.collectRecords({
          indexName: 'primaryKeyRange',
          ge: rangeStart(i),
          lt: rangeStart(i) + 100,
        })
      ).length,
  ],
  [
    'range 100, peekRecords',
    async (i: number) =>
      table.peekRecords({
        indexName: 'primaryKeyRange',
        ge: rangeStart(i),
        lt: rangeStart(i) + 100,
      })?.length,
  ],
  [
    '50 keys, for await',
    async (i: number) => {
      let n = 0
      for await (const _ of table.getRecords({ indexName: 'primaryKey', keys: keys(i) })) n++
      return n
    },
  ],
  [
    '50 keys, collectRecords',
    async (i: number) =>
      (await table.collectRecords({ indexName: 'primaryKey', keys: keys(i) })).length,
  ],
  [
    '50 keys, peekRecords',
    async (i: number) => table.peekRecords({ indexName: 'primaryKey', keys: keys(i) })?.length,
  ],
] as const) {
  const expected = name.startsWith('range') ? 100 : 50
  const cpu = process.cpuUsage()
  const start = performance.now()
  await profiled(name, async () => {
    for (let i = 0; i < READS; i++) {
      if ((await read(i)) !== expected)
        throw new Error(`${name}: a read did not return ${expected}`)
    }
  })
  const wall = ((performance.now() - start) / READS) * 1000
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / READS
  console.log(`${name}: ${wall.toFixed(1)} µs wall, ${cpuUs.toFixed(1)} µs CPU per read`)
}
