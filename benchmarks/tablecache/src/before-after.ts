// The local read paths of two builds of @cellar/tablecache side by side in one process: the same
// rows loaded into each, every read of each build called once per iteration in a shuffled order
// (paired), each read summing a field of every record it gets. No database. Each read of a build
// gets its own keys or range (the same ones as its counterpart in the other build): reads
// sharing keys within an iteration would find them in the CPU caches (50 keys measured 32-42 µs
// on first read, 7 µs when read again at once).
// Usage: BENCH_BEFORE=/tmp/before/dist/index.js node --import tsx src/before-after.ts [rows] [iterations]
// (the before build's directory needs a node_modules with sorted-btree, e.g. a symlink to
// packages/tablecache/node_modules). Without BENCH_BEFORE it times the current build alone.
import type { DbAccess, DbRecordsSpec, IndexSpec } from '@cellar/core'
import * as current from '@cellar/tablecache'
import { type Contender, contender, load, measure, table } from './paired.js'

const ROWS = Number(process.argv[2] ?? 500_000)
const ITERATIONS = Number(process.argv[3] ?? 3_000)

interface Row {
  id: number
  ts: number
  amount: number
  note: string
}
type Query = { ge: number; lt: number }[] | number[]
type Build = typeof current

// Each build gets its own copies of the rows, so that one build's reads don't bring the other's
// records into the cache.
function database(): DbAccess<Row, Query> {
  const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({
    id: i + 1,
    ts: (i + 1) * 10,
    amount: (i * 7919) % 1000,
    note: `order ${i + 1}`,
  }))
  return {
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
}

async function loaded(build: Build) {
  const indexes = build.primaryKeyRangeIndexes<Row, Query>({
    primaryKey: (r) => r.id,
    queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
    queryKeys: (keys) => keys.map(Number),
  })
  const storage = new build.LocalStorageTable(indexes)
  const cached = new build.CachedTable(indexes, database(), storage)
  await cached.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
  // The load's rows are folded into the row map in slices between event loop turns, which a read
  // loop of promise jobs never gives; until then reads look rows up in the merge's overlay map. A
  // direct write waits for the fold: re-putting a stored record changes nothing else.
  const first = await storage.getRecord('1')
  if (first !== undefined) await storage.putRecord(first)
  return cached
}

const rangeStart = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
const range = (i: number) => ({
  indexName: 'primaryKeyRange',
  ge: rangeStart(i),
  lt: rangeStart(i) + 100,
})
const keys = (i: number) => ({
  indexName: 'primaryKey',
  keys: Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % ROWS)),
})

// Sums `amount` over the records, so every record is read; checks the count.
function sum(records: Iterable<Row>, expected: number): number {
  let n = 0
  let total = 0
  for (const r of records) {
    total += r.amount
    n++
  }
  if (n !== expected) throw new Error(`a read returned ${n} records, not ${expected}`)
  return total
}
async function drainSum(records: AsyncIterable<Row>, expected: number): Promise<number> {
  let n = 0
  let total = 0
  for await (const r of records) {
    total += r.amount
    n++
  }
  if (n !== expected) throw new Error(`a read returned ${n} records, not ${expected}`)
  return total
}

type Cached = Awaited<ReturnType<typeof loaded>>
function reads(
  label: string,
  cached: Cached,
  spec: (i: number) => IndexSpec,
  n: number,
): Contender[] {
  return [
    contender(`${label} for await`, (i) => drainSum(cached.getRecords(spec(3 * i)), n)),
    contender(`${label} collectRecords`, async (i) =>
      sum(await cached.collectRecords(spec(3 * i + 1)), n),
    ),
    contender(`${label} peekRecords`, async (i) =>
      sum(cached.peekRecords(spec(3 * i + 2)) ?? [], n),
    ),
  ]
}

const before = process.env.BENCH_BEFORE
const builds: [string, Cached][] = [['after', await loaded(current)]]
if (before !== undefined && before !== '')
  builds.unshift(['before', await loaded((await import(before)) as Build)])
console.log(`rows ${ROWS}, ${ITERATIONS} iterations; builds: ${builds.map(([b]) => b).join(', ')}`)
for (const [title, spec, n] of [
  ['100-record range', range, 100],
  ['50 records by primary key', keys, 50],
] as const) {
  const all = builds.flatMap(([label, cached]) => reads(label, cached, spec, n))
  const startLoad = load()
  await measure(all, ITERATIONS)
  const half = all.length / builds.length
  for (let k = 0; k < half; k++) {
    const pair = builds.map((_, b) => all[b * half + k] as Contender)
    console.log(table(title, startLoad, pair[0] as Contender, pair))
  }
}
