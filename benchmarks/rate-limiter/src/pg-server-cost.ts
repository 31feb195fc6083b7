// PostgreSQL server instructions per consume, independent of load: a private cluster whose
// postmaster runs under `valgrind --tool=callgrind --trace-children=yes`, so every backend it
// forks writes its own instruction total when it exits. Each contender runs twice on a pool of
// one connection (one backend) with the same warm-up and N or 0 measured consumes over 1,024
// keys; the difference of the two backends' totals over N is its count. The statements go over
// the extended protocol as the contenders send them (named prepared statements, generic plans).
//
//   cd benchmarks/rate-limiter && npx tsx src/pg-server-cost.ts   (PG_COST_WARM, PG_COST_OPS,
//   BENCH_BEFORE=<dir> as in pg-cpu.ts, PG_COST_ROWS=<words>: only the rows whose name holds one
//   of the comma-separated words; PG_COST_LAYOUTS=1 adds pg-layouts.ts's candidate statements,
//   run bare; run as root: the cluster runs as the `postgres` user)
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { KnexStore } from '@cellar/knex'
import { RateLimiter } from '@cellar/rate-limiter'
import createKnex, { type Knex } from 'knex'
import pg from 'pg'
import { LIMIT, WINDOW_MS } from './contenders.js'
import { flexiblePostgres, rawUpsert } from './contenders-stores.js'
import { layoutContender, layouts } from './pg-layouts.js'

const WARM = Number(process.env.PG_COST_WARM ?? 3_000)
const OPS = Number(process.env.PG_COST_OPS ?? 2_000)
const PORT = 5499
const KEYS = 1024
const bin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'])
  .toString()
  .trim()
const dir = mkdtempSync('/tmp/cellar-pg-cost-')
chmodSync(dir, 0o777)
const asPostgres = (command: string) =>
  process.getuid?.() === 0 ? ['su', ['postgres', '-c', command]] : ['sh', ['-c', command]]
const run = (command: string) => {
  const [file, args] = asPostgres(command) as [string, string[]]
  return execFileSync(file, args, { stdio: 'pipe' })
}
run(`${bin}/initdb -D ${dir}/data -A trust -E UTF8 --no-locale`)
writeFileSync(
  `${dir}/data/postgresql.conf`,
  'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nautovacuum = off\n',
  { flag: 'a' },
)
const [file, args] = asPostgres(
  `exec valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=${dir}/cg.%p ${bin}/postgres -D ${dir}/data -p ${PORT} -k ${dir} -c listen_addresses=''`,
) as [string, string[]]
const server = spawn(file, args, { stdio: 'ignore' })
const connection = { host: dir, port: PORT, user: 'postgres', database: 'postgres' }
for (let i = 0; ; i++) {
  try {
    const probe = new pg.Client(connection)
    await probe.connect()
    await probe.end()
    break
  } catch (error) {
    if (i > 240) throw error
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** The instruction total the backend `pid` wrote when it exited. */
async function totalOf(pid: number): Promise<number> {
  const out = `${dir}/cg.${pid}`
  for (let i = 0; i < 600; i++) {
    const match = existsSync(out) ? /^totals: (\d+)/m.exec(readFileSync(out, 'utf8')) : null
    if (match !== null) return Number(match[1])
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`no callgrind total from backend ${pid}`)
}

type Consume = (key: string) => unknown
interface Row {
  readonly name: string
  /** Builds the contender on a knex and a pg pool of one connection each (tables made). */
  make(knex: Knex, pool: pg.Pool): Promise<{ consume: Consume; pid: () => Promise<number> }>
}

const pidOf = async (query: (sql: string) => Promise<{ rows: Array<{ pid: number }> }>) =>
  (await query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number
type Limiter = typeof RateLimiter
type Store = typeof KnexStore
const algorithms = ['fixed-window', 'sliding-window', 'token-bucket'] as const
const cellarRows = (Store: Store, Limiter: Limiter, label: string): Row[] =>
  algorithms.map((algorithm) => ({
    name: `cellar ${algorithm}${label}`,
    async make(knex) {
      const store = new Store({
        knex,
        prefix: 'c:',
        pruneInterval: false,
        preparedStatements: true,
      })
      const options = { store, algorithm, limit: LIMIT, window: WINDOW_MS, name: algorithm }
      const limiter = new Limiter(options)
      await limiter.consume('warm')
      return {
        consume: (key) => limiter.consume(key),
        pid: () => pidOf((sql) => knex.raw(sql) as never),
      }
    },
  }))
const rows: Row[] = [
  {
    name: 'raw upsert-increment statement (pg, prepared)',
    async make(_knex, pool) {
      const raw = await rawUpsert(pool)
      return { consume: raw.consume, pid: () => pidOf((sql) => pool.query(sql)) }
    },
  },
  ...cellarRows(KnexStore, RateLimiter, ''),
]
const beforeDir = process.env.BENCH_BEFORE
if (beforeDir !== undefined) {
  const from = (name: string) => import(`${beforeDir}/node_modules/@cellar/${name}/dist/index.js`)
  const Store = (await from('knex')).KnexStore as Store
  const Limiter = (await from('rate-limiter')).RateLimiter as Limiter
  rows.push(...cellarRows(Store, Limiter, ' (before)'))
}
rows.push({
  name: 'rate-limiter-flexible Postgres',
  async make(knex) {
    const flexible = await flexiblePostgres(knex)
    return { consume: flexible.consume, pid: () => pidOf((sql) => knex.raw(sql) as never) }
  },
})

if (process.env.PG_COST_LAYOUTS === '1') {
  for (const layout of layouts) {
    rows.push({
      name: layout.name,
      async make(_knex, pool) {
        const consume = await layoutContender(layout, pool)
        return { consume, pid: () => pidOf((sql) => pool.query(sql)) }
      },
    })
  }
}

const only = process.env.PG_COST_ROWS?.split(',').filter((word) => word !== '')
const chosen =
  only === undefined ? rows : rows.filter((row) => only.some((w) => row.name.includes(w)))

/** The backend total of one contender after `n` consumes (the warm-up included). */
async function backendTotal(row: Row, n: number): Promise<number> {
  const setup = new pg.Client(connection)
  await setup.connect()
  await setup.query(
    'DROP TABLE IF EXISTS cellar_cache, bench_rl_raw, bench_rl_rlf, bench_rl_layout',
  )
  await setup.end()
  const knex = createKnex({ client: 'pg', connection, pool: { min: 1, max: 1 } })
  const pool = new pg.Pool({ ...connection, max: 1 })
  const contender = await row.make(knex, pool)
  for (let i = 0; i < n; i++) await contender.consume(`user:${((i % KEYS) * 7919) % KEYS}`)
  const pid = await contender.pid()
  await knex.destroy()
  await pool.end()
  return totalOf(pid)
}

console.log(`PostgreSQL (${bin}) backend under callgrind, warm-up ${WARM}, measured ${OPS}`)
console.log(
  `load average at start: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
console.log('| contender | server instructions per consume |\n| --- | ---: |')
try {
  for (const row of chosen) {
    const short = await backendTotal(row, WARM)
    const long = await backendTotal(row, WARM + OPS)
    console.log(`| ${row.name} | ${Math.round((long - short) / OPS)} |`)
  }
} finally {
  run(`${bin}/pg_ctl -D ${dir}/data stop -m fast`)
  server.unref()
}
