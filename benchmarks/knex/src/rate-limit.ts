// consume() on PostgreSQL: the KnexStore's native limiter step (one transaction holding the
// state row's lock, on the server's clock) against the rate limiter's generic counter fallback
// (add + increment on the same store), both as ratios to a raw single upsert statement (a bare
// fixed-window counter: INSERT … ON CONFLICT DO UPDATE SET n = n + 1 RETURNING n).
//
// Everything runs in this one process, interleaved: each round gives every contender of an
// algorithm one slice, in a rotated order, and a ratio is the median over rounds of the two
// contenders' rates in the same round, so the load of this shared machine hits both alike.
import { cpus, loadavg } from 'node:os'
import type { RateLimitBackend, RateLimitRequest } from '@cellar/core'
import { KnexStore } from '@cellar/knex'
import { CounterRateLimitBackend } from '@cellar/rate-limiter'
import { usePostgres } from '@cellar/test-servers'
import createKnex from 'knex'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11)
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 300)
// Concurrent consumes in flight per contender (each on its own key of KEYS).
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1)
const KEYS = 1024
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
const loadAtStart = load()

const database = await usePostgres()
if (database === undefined) throw new Error('PostgreSQL is needed (PG_URL or 127.0.0.1:5432)')
const knex = createKnex({
  client: 'pg',
  connection: database.connection,
  pool: { min: 1, max: Math.max(2, CONCURRENCY) },
})
const store = new KnexStore({ knex, prefix: 'bench:', pruneInterval: false })
const native = store.namespace('native').rateLimiter()
const fallback = new CounterRateLimitBackend(store.namespace('fallback'))
await knex.raw(
  'CREATE TABLE IF NOT EXISTS bench_raw_counter (key text PRIMARY KEY, n bigint NOT NULL, expires_at bigint)',
)
const RAW = `INSERT INTO bench_raw_counter (key, n, expires_at) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET n = bench_raw_counter.n + 1 RETURNING n`

// A generous limit: every consume is allowed and writes, as most requests of a service do.
const request: RateLimitRequest = {
  limit: 1_000_000_000,
  windowMs: 3_600_000,
  points: 1,
  force: false,
  aligned: false,
  blockMs: 0,
}

type Step = 'fixedWindow' | 'slidingWindow' | 'tokenBucket'
type Run = (i: number) => Promise<unknown>
const through = (backend: RateLimitBackend, step: Step): Run => {
  return (i) => backend[step](`k${i % KEYS}`, request)
}
const raw: Run = (i) => knex.raw(RAW, [`k${i % KEYS}`, Date.now() + 3_600_000])

const algorithms: Array<{ name: string; step: Step; fallback: boolean }> = [
  { name: 'fixed window', step: 'fixedWindow', fallback: true },
  { name: 'sliding window', step: 'slidingWindow', fallback: true },
  { name: 'token bucket', step: 'tokenBucket', fallback: false },
]

async function rate(run: Run): Promise<number> {
  const began = performance.now()
  let n = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() - began < SLICE_MS) await run(n++)
    }),
  )
  return (n / (performance.now() - began)) * 1000
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}
const format = (n: number) => Math.round(n).toLocaleString('en-US')

const rows: string[] = []
for (const algorithm of algorithms) {
  const jobs = [
    { name: 'native', run: through(native, algorithm.step) },
    ...(algorithm.fallback ? [{ name: 'fallback', run: through(fallback, algorithm.step) }] : []),
    { name: 'raw', run: raw },
  ]
  for (const job of jobs) await rate(job.run) // warm-up
  const rates: number[][] = []
  for (let round = 0; round < ROUNDS; round++) {
    const row = new Array<number>(jobs.length)
    for (let k = 0; k < jobs.length; k++) {
      const index = (k + round) % jobs.length
      row[index] = await rate((jobs[index] as (typeof jobs)[number]).run)
    }
    rates.push(row)
  }
  const at = (name: string) => jobs.findIndex((job) => job.name === name)
  const ratio = (a: string, b: string) => {
    const [i, j] = [at(a), at(b)]
    if (i < 0 || j < 0) return '—'
    return median(rates.map((row) => (row[i] as number) / (row[j] as number))).toFixed(2)
  }
  const ops = (name: string) => {
    const i = at(name)
    return i < 0 ? '—' : format(median(rates.map((row) => row[i] as number)))
  }
  rows.push(
    `| ${algorithm.name} | ${ops('native')} | ${ops('fallback')} | ${ops('raw')} | ${ratio('native', 'raw')} | ${ratio('fallback', 'raw')} | ${ratio('native', 'fallback')} |`,
  )
}

const cpu = cpus()
console.log(
  `\n## consume on PostgreSQL (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; load at start ${loadAtStart}, at end ${load()}; ${ROUNDS} interleaved rounds of ${SLICE_MS} ms slices; concurrency ${CONCURRENCY}; ${KEYS} keys)\n`,
)
console.log(
  '| algorithm | native ops/s | fallback ops/s | raw upsert ops/s | native ÷ raw | fallback ÷ raw | native ÷ fallback |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const row of rows) console.log(row)

await knex.raw('DROP TABLE IF EXISTS bench_raw_counter')
await store.close()
await knex.destroy()
await database.dispose()
