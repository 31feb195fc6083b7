// CPU per consume on PostgreSQL, by side: this process (process.cpuUsage) and the server
// backends serving the run's scratch database (utime + stime from /proc/<pid>/stat, so the
// server must run on this machine). Wall-clock rates on a shared 2-core machine swing 3× from
// run to run; CPU per operation moves far less with the load, and it says where a gap lies.
//
// Contenders as in bench.ts (c=64, 1,024 keys, pools of 10): the raw prepared
// upsert-increment on a plain pg pool, cellar's three algorithms on a prepared-statement
// KnexStore, rate-limiter-flexible's RateLimiterPostgres on the same knex. BENCH_BEFORE=<dir>
// adds the same cellar rows from another build (its node_modules/@cellar/{knex,rate-limiter}).
//
//   cd benchmarks/rate-limiter && npx tsx src/pg-cpu.ts      (BENCH_ROUNDS, BENCH_OPS)
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { KnexStore } from '@cellar/knex'
import { RateLimiter } from '@cellar/rate-limiter'
import { findPostgres } from '@cellar/test-servers'
import createKnex from 'knex'
import pg from 'pg'
import { type Contender, LIMIT, WINDOW_MS } from './contenders.js'
import { flexiblePostgres, rawUpsert } from './contenders-stores.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const OPS = Number(process.env.BENCH_OPS ?? 4_000)
const CONCURRENCY = 64
const KEYS = 1024
const TICK_US = 10_000 // USER_HZ = 100 on Linux
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')

const database = await findPostgres()
if (database === undefined) throw new Error('PostgreSQL is needed on this machine')
const knex = createKnex({ client: 'pg', connection: database.connection, pool: { max: 10 } })
const pool = new pg.Pool({ ...(database.connection as pg.PoolConfig), max: 10 })
pool.on('error', () => {})

/** CPU microseconds used so far by every backend connected to the run's database. */
async function serverCpu(): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  )
  let ticks = 0
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // a backend that ended in between
    }
  }
  return ticks * TICK_US
}

type Limiter = typeof RateLimiter
type Store = typeof KnexStore
const algorithms = ['fixed-window', 'sliding-window', 'token-bucket'] as const

function cellarRows(Store: Store, Limiter: Limiter, label: string, prefix: string) {
  const store = new Store({ knex, prefix, pruneInterval: false, preparedStatements: true })
  const rows = algorithms.map((algorithm) => {
    // One namespace per algorithm, as in bench.ts: the fixed window's count layout and core's
    // text of the others would otherwise convert each other's rows on every round.
    const name = `b-${algorithm}`
    const limiter = new Limiter({ store, algorithm, limit: LIMIT, window: WINDOW_MS, name })
    return { name: `cellar ${algorithm}${label}`, consume: (key: string) => limiter.consume(key) }
  })
  return { store, rows }
}

const current = cellarRows(KnexStore, RateLimiter, '', 'now:')
const contenders: Contender[] = [await rawUpsert(pool), ...current.rows]
const beforeDir = process.env.BENCH_BEFORE
let old: { store: KnexStore } | undefined
if (beforeDir !== undefined) {
  const from = (name: string) => import(`${beforeDir}/node_modules/@cellar/${name}/dist/index.js`)
  const Store = (await from('knex')).KnexStore as Store
  const Limiter = (await from('rate-limiter')).RateLimiter as Limiter
  const before = cellarRows(Store, Limiter, ' (before)', 'old:')
  old = before
  contenders.push(...before.rows)
}
contenders.push(await flexiblePostgres(knex))

interface Sample {
  readonly wall: number
  readonly client: number
  readonly server: number
}

async function round(contender: Contender): Promise<Sample> {
  let next = 0
  const worker = async () => {
    while (next < OPS) {
      const i = next++
      await contender.consume(keys[((i % KEYS) * 7919) % KEYS] as string)
    }
  }
  const server = await serverCpu()
  const start = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const used = process.cpuUsage(cpu)
  const wall = OPS / ((performance.now() - start) / 1000)
  const serverUs = (await serverCpu()) - server
  return { wall, client: (used.user + used.system) / OPS, server: serverUs / OPS }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

console.log(
  `Node ${process.version}, c=${CONCURRENCY}, ${KEYS} keys, ${OPS} ops × ${ROUNDS} rounds`,
)
console.log(`load average at start: ${load()}`)
for (const contender of contenders) await round(contender) // warm-up: statements prepared, JIT
const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < contenders.length; i++) {
    const contender = contenders[(i + r) % contenders.length] as Contender
    samples.get(contender.name)?.push(await round(contender))
  }
}
console.log(`load average at end: ${load()}\n`)
console.log(
  '| contender | ops/s (median) | client µs CPU/op | server µs CPU/op | total µs CPU/op | ops per CPU-second × raw |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
const total = (name: string) => median((samples.get(name) ?? []).map((s) => s.client + s.server))
const rawTotal = total(contenders[0]?.name as string)
for (const contender of contenders) {
  const list = samples.get(contender.name) ?? []
  const of = (pick: (s: Sample) => number) => median(list.map(pick))
  console.log(
    `| ${contender.name} | ${Math.round(of((s) => s.wall))} | ${of((s) => s.client).toFixed(1)} | ${of((s) => s.server).toFixed(1)} | ${total(contender.name).toFixed(1)} | ${(rawTotal / total(contender.name)).toFixed(2)} |`,
  )
}

await current.store.close()
await old?.store.close()
await knex.destroy()
await pool.end()
await database.dispose()
