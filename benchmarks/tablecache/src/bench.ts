// CachedTable (LocalStorageTable) against the SQL it replaces, on a seeded PostgreSQL table.
// The machine may be loaded: compare ratios, not absolute numbers.
// Usage: pnpm bench [rows] [opsPerContender]
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { setImmediate } from 'node:timers'
import { KnexAccess, type KnexRecordsQuery } from '@cellar/knex'
import { CachedTable, LocalStorageTable, primaryKeyRangeIndexes } from '@cellar/tablecache'
import { usePostgres } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const OPS = Number(process.argv[3] ?? 2_000)

interface Row {
  id: number
  ts: string
  amount: number
  note: string
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`

async function time(ops: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < ops; i++) {
    const start = performance.now()
    await op(i)
    samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)
}

async function drain(iterable: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of iterable) n++
  return n
}

function report(name: string, samples: number[]): { name: string; p50: number; p99: number } {
  const p50 = pct(samples, 0.5)
  const p99 = pct(samples, 0.99)
  console.log(`${name.padEnd(34)} p50 ${fmt(p50).padStart(10)}  p99 ${fmt(p99).padStart(10)}`)
  return { name, p50, p99 }
}

async function seed(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('bench_orders')
  await knex.raw(
    `create table bench_orders (id integer primary key, ts bigint not null, amount integer not null, note text not null)`,
  )
  await knex.raw(
    `insert into bench_orders select g, g::bigint * 10, (g::bigint * 7919) % 1000, 'order ' || g from generate_series(1, ?) g`,
    [ROWS],
  )
  await knex.raw('analyze bench_orders')
}

const pg = await usePostgres()
if (pg === undefined) throw new Error('PostgreSQL is needed')
const knex = createKnex({
  client: 'pg',
  connection: { ...pg.connection },
  pool: { min: 1, max: 4 },
})
try {
  console.log(
    `rows ${ROWS}, ops ${OPS}, load average before ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
  let start = performance.now()
  await seed(knex)
  console.log(`seed ${((performance.now() - start) / 1000).toFixed(1)} s`)

  const where =
    (intervals: readonly { ge: number; lt: number }[]): KnexRecordsQuery =>
    (k) =>
      k('bench_orders').where((q) => {
        for (const { ge, lt } of intervals)
          q.orWhere((w) => w.where('id', '>=', ge).where('id', '<', lt))
      })
  const indexes = primaryKeyRangeIndexes<Row, KnexRecordsQuery>({
    primaryKey: (r) => r.id,
    queryIntervals: where,
    queryKeys: (keys) => (k) => k('bench_orders').whereIn('id', keys.map(Number)),
  })
  const table = new CachedTable(
    indexes,
    new KnexAccess<Row>(knex, { batchSize: 5_000 }),
    new LocalStorageTable(indexes),
  )
  const half = Math.floor(ROWS / 2)
  start = performance.now()
  await table.load({ indexName: 'primaryKeyRange', ge: 1, lt: half + 1 })
  const loadMs = performance.now() - start
  console.log(`load of ${half} rows (half the table) ${(loadMs / 1000).toFixed(1)} s`)

  const rangeStart = (i: number) => 1 + ((i * 7_919) % (half - 200))
  const keys = (i: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % half))
  const results = [
    report(
      'range 100, LocalStorageTable',
      await time(OPS, (i) =>
        drain(
          table.getRecords({
            indexName: 'primaryKeyRange',
            ge: rangeStart(i),
            lt: rangeStart(i) + 100,
          }),
        ),
      ),
    ),
    report(
      'range 100, SQL (knex)',
      await time(OPS, (i) =>
        knex('bench_orders')
          .where('id', '>=', rangeStart(i))
          .where('id', '<', rangeStart(i) + 100),
      ),
    ),
    report(
      '50 keys, LocalStorageTable',
      await time(OPS, (i) => drain(table.getRecords({ indexName: 'primaryKey', keys: keys(i) }))),
    ),
    report(
      '50 keys, SQL (knex)',
      await time(OPS, (i) => knex('bench_orders').whereIn('id', keys(i))),
    ),
  ]
  const ratio = (a: number, b: number) =>
    ((results[b]?.p50 ?? 0) / (results[a]?.p50 ?? 1)).toFixed(0)
  console.log(`p50 speed-up: range ${ratio(0, 1)}×, keys ${ratio(2, 3)}×`)

  // Shift the window by 10% of the table while one reader loops over a range both windows hold.
  const shift = Math.floor(ROWS / 10)
  const during: number[] = []
  let adjusting = true
  const reader = (async () => {
    let i = 0
    while (adjusting) {
      const ge = shift + 1 + ((i++ * 7_919) % (half - shift - 200))
      const t0 = performance.now()
      const n = await drain(table.getRecords({ indexName: 'primaryKeyRange', ge, lt: ge + 100 }))
      during.push(performance.now() - t0)
      if (n !== 100) throw new Error(`a read during adjust returned ${n} records`)
      // Local reads settle in microtasks only; a real reader is driven by I/O and so yields.
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  start = performance.now()
  await table.adjust({ indexName: 'primaryKeyRange', ge: shift + 1, lt: half + shift + 1 })
  const adjustMs = performance.now() - start
  adjusting = false
  await reader
  during.sort((a, b) => a - b)
  console.log(`adjust (10% shift: ${shift} out, ${shift} in) ${(adjustMs / 1000).toFixed(1)} s`)
  report(`range 100 during adjust (${during.length} reads)`, during)
  console.log(`max read during adjust ${fmt(during.at(-1) ?? 0)}`)
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
} finally {
  await knex.destroy()
  await pg.dispose()
}
