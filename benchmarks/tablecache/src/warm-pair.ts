// The CPU a read costs when everything it touches is in the CPU caches (16 ranges or key sets read
// over and over, 20,000 rows): what the read path computes, apart from memory latency, which
// `before-after.ts` measures with cold reads. Two builds in one process, in alternating batches of
// 1,000 reads; each batch's time is its CPU time (or wall time, when less), and the ratio column
// is the median (quartiles) of the per-batch ratios first ÷ second.
// Usage: BUILDS=/tmp/before/dist/index.js,/tmp/after/dist/index.js node --import tsx src/warm-pair.ts
// (KINDS=range-peek,range-collect,keys-peek,keys-collect by default; BATCHES=300)
import { performance } from 'node:perf_hooks'
import type { DbAccess, DbRecordsSpec } from '@cellar/core'
import type * as current from '@cellar/tablecache'
import { load, quantile } from './paired.js'

type Build = typeof current
const ROWS = 20_000
const BATCHES = Number(process.env.BATCHES ?? 300)
const SIZE = 1_000

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

async function loaded(build: Build) {
  const indexes = build.primaryKeyRangeIndexes<Row, Query>({
    primaryKey: (r) => r.id,
    queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
    queryKeys: (keys) => keys.map(Number),
  })
  const storage = new build.LocalStorageTable(indexes)
  const table = new build.CachedTable(indexes, db, storage)
  await table.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
  // Wait for the load's fold into the row map (see before-after.ts).
  const first = await storage.getRecord('1')
  if (first !== undefined) await storage.putRecord(first)
  return table
}

let checksum = 0
function sum(records: readonly Row[] | undefined): void {
  if (records === undefined) throw new Error('peekRecords could not serve a covered read')
  for (let i = 0; i < records.length; i++) checksum += (records[i] as Row).amount
}
const keySets = Array.from({ length: 16 }, (_, r) =>
  Array.from({ length: 50 }, (_, j) => 1 + (((r * 50 + j) * 7_919) % ROWS)),
)
const range = (i: number) => ({
  indexName: 'primaryKeyRange',
  ge: 1 + (i & 15) * 300,
  lt: 101 + (i & 15) * 300,
})
const keys = (i: number) => ({ indexName: 'primaryKey', keys: keySets[i & 15] as number[] })

type Table = Awaited<ReturnType<typeof loaded>>
const reads: Record<string, (table: Table) => (i: number) => unknown> = {
  'range-peek': (table) => (i) => sum(table.peekRecords(range(i))),
  'range-collect': (table) => async (i) => sum(await table.collectRecords(range(i))),
  'keys-peek': (table) => (i) => sum(table.peekRecords(keys(i))),
  'keys-collect': (table) => async (i) => sum(await table.collectRecords(keys(i))),
}

const paths = (process.env.BUILDS ?? '').split(',').filter((p) => p !== '')
if (paths.length !== 2) throw new Error('BUILDS needs two comma-separated builds')
const tables = await Promise.all(paths.map(async (p) => loaded((await import(p)) as Build)))
const kinds = (process.env.KINDS ?? Object.keys(reads).join(',')).split(',')
console.log(`${BATCHES} batches of ${SIZE} warm reads per build; load average ${load()}`)
for (const kind of kinds) {
  const make = reads[kind]
  if (make === undefined) throw new Error(`unknown read ${kind}`)
  const runs = tables.map(make)
  const times: number[][] = runs.map(() => [])
  for (let b = -20; b < BATCHES; b++) {
    for (let k0 = 0; k0 < runs.length; k0++) {
      const k = (k0 + b + runs.length * 20) % runs.length
      const run = runs[k] as (i: number) => unknown
      const cpu = process.cpuUsage()
      const started = performance.now()
      for (let i = 0; i < SIZE; i++) await run(i)
      const wall = (performance.now() - started) * 1000
      const used = process.cpuUsage(cpu)
      if (b >= 0) (times[k] as number[]).push(Math.min(wall, used.user + used.system) / SIZE)
    }
  }
  const [first, second] = times as [number[], number[]]
  const ratios = first.map((t, i) => t / (second[i] as number))
  const ns = (t: number[]) => `${(quantile(t, 0.5) * 1000).toFixed(0)} ns`
  const f = (q: number) => quantile(ratios, q).toFixed(2)
  console.log(
    `${kind}: ${ns(first)} / ${ns(second)} per read (p50); first ÷ second ${f(0.5)} (${f(0.25)}–${f(0.75)})`,
  )
}
if (checksum < 0) console.log(checksum)
