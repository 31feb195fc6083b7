import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { KnexStore } from '@cellar/knex'
import { usePostgres } from '@cellar/test-servers'
import { type Contender, createContenders, type Database, KEYS, VALUE } from './contenders.js'

// Every contender runs in this one process, interleaved: each round gives every contender of an
// operation one slice of SLICE_MS, in a rotated order, and a ratio is the median over rounds of
// the two contenders' rates in the same round. Load on this shared machine drifts between
// rounds but hits both sides of a round alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
// PostgreSQL answers in round trips of ~0.1 ms or more: longer slices keep its count per slice up.
const SLICE_MS = {
  sqlite: Number(process.env.BENCH_SLICE_MS ?? 60),
  pg: Number(process.env.BENCH_PG_SLICE_MS ?? 200),
}
const OPS = ['get-hit', 'set', 'lock'] as const
type Op = (typeof OPS)[number]
// BENCH_BEFORE: the dist entry of an older @cellar/knex build, measured alongside as "(before)".
const beforePath = process.env.BENCH_BEFORE
const Before =
  beforePath === undefined
    ? undefined
    : ((await import(pathToFileURL(beforePath).href)) as { KnexStore: typeof KnexStore }).KnexStore

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
const loadAtStart = load()
const dir = mkdtempSync(join(tmpdir(), 'cellar-bench-knex-'))
const sqliteFile = join(dir, 'bench.db')
const databases: Database[] = [
  {
    dialect: 'sqlite',
    sqliteFile,
    url: `sqlite://${sqliteFile}`,
    knexConfig: {
      client: 'better-sqlite3',
      connection: { filename: sqliteFile },
      useNullAsDefault: true,
      pool: {
        afterCreate: (connection: { pragma(sql: string): unknown }, done: () => void) => {
          connection.pragma('journal_mode = WAL')
          done()
        },
      },
    },
  },
]
const pgDatabase = process.env.BENCH_SKIP_PG ? undefined : await usePostgres()
if (pgDatabase !== undefined) {
  databases.push({
    dialect: 'pg',
    url: pgDatabase.url,
    pgConnection: pgDatabase.connection,
    knexConfig: { client: 'pg', connection: pgDatabase.connection, pool: { min: 1, max: 4 } },
  })
}

type Run = (i: number) => Promise<unknown>
function runner(contender: Contender, op: Op): Run | undefined {
  const { get, set, lock } = contender
  if (op === 'get-hit') return get && ((i) => get(`k${i % KEYS}`))
  if (op === 'set') return set && ((i) => set(`k${i % KEYS}`, VALUE))
  return lock && (() => lock())
}

async function rate(run: Run, sliceMs: number): Promise<number> {
  const began = performance.now()
  let n = 0
  while (performance.now() - began < sliceMs) await run(n++)
  return (n / (performance.now() - began)) * 1000
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

interface Cell {
  readonly dialect: string
  readonly op: Op
  readonly names: string[]
  /** rates[round][contender index] in ops/s. */
  readonly rates: number[][]
}

const cells: Cell[] = []
const closers: Array<() => Promise<void>> = []
for (const db of databases) {
  const { contenders, close } = await createContenders(db, Before)
  closers.push(close)
  for (const contender of contenders) {
    for (let i = 0; i < KEYS; i++) await contender.set?.(`k${i}`, VALUE)
  }
  for (const op of OPS) {
    const jobs = contenders.flatMap((contender) => {
      const run = runner(contender, op)
      return run === undefined ? [] : [{ name: contender.name, run }]
    })
    const slice = SLICE_MS[db.dialect]
    for (const job of jobs) await rate(job.run, slice) // warm-up
    const rates: number[][] = []
    for (let round = 0; round < ROUNDS; round++) {
      const row = new Array<number>(jobs.length)
      for (let k = 0; k < jobs.length; k++) {
        const index = (k + round) % jobs.length
        row[index] = await rate((jobs[index] as (typeof jobs)[number]).run, slice)
      }
      rates.push(row)
    }
    cells.push({ dialect: db.dialect, op, names: jobs.map((job) => job.name), rates })
  }
}

function ratio(cell: Cell, a: string, b: string): string {
  const [i, j] = [cell.names.indexOf(a), cell.names.indexOf(b)]
  if (i < 0 || j < 0) return '—'
  return median(cell.rates.map((row) => (row[i] as number) / (row[j] as number))).toFixed(2)
}

const cpu = cpus()
const format = (n: number) => Math.round(n).toLocaleString('en-US')
const title = { sqlite: 'SQLite (better-sqlite3, file, WAL)', pg: 'PostgreSQL (pg, loopback)' }
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; load at start ${loadAtStart}, at end ${load()}; ${ROUNDS} interleaved rounds of ${SLICE_MS.sqlite} ms (SQLite) / ${SLICE_MS.pg} ms (PostgreSQL) slices; writes with a ${VALUE.length} B value and a 1 h TTL; one operation at a time)`,
)
for (const dialect of Object.keys(title) as Array<keyof typeof title>) {
  const mine = cells.filter((cell) => cell.dialect === dialect)
  if (mine.length === 0) continue
  console.log(`\n### ${title[dialect]}\n`)
  console.log('| contender | get-hit ops/s | × raw knex | set ops/s | × raw knex |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  const [get, set] = [mine.find((c) => c.op === 'get-hit'), mine.find((c) => c.op === 'set')]
  const base = 'raw knex: knex.raw of the same SQL'
  for (const name of get?.names ?? []) {
    const cells = [get, set].flatMap((cell) => {
      const i = cell?.names.indexOf(name) ?? -1
      if (cell === undefined || i < 0) return ['—', '—']
      return [format(median(cell.rates.map((row) => row[i] as number))), ratio(cell, name, base)]
    })
    console.log(`| ${name} | ${cells.join(' | ')} |`)
  }
  const bare =
    dialect === 'sqlite' ? 'raw better-sqlite3 (no knex)' : 'raw pg, named statements (no knex)'
  const bento = 'BentoCache knex driver'
  console.log('\n| paired ratio (median of rounds) | get-hit | set |')
  console.log('| --- | ---: | ---: |')
  for (const label of ['', ' (before)']) {
    for (const [a, b] of [
      [`KnexStore${label}`, bento],
      [`KnexStore, preparedStatements${label}`, bare],
      [`KnexStore${label}`, bare],
    ] as const) {
      if (!get?.names.includes(a)) continue
      console.log(
        `| ${a} ÷ ${b} | ${get ? ratio(get, a, b) : '—'} | ${set ? ratio(set, a, b) : '—'} |`,
      )
    }
  }
  const lock = mine.find((c) => c.op === 'lock')
  if (lock !== undefined) {
    console.log('\n| lock acquire + release, c=1 | ops/s | × before |')
    console.log('| --- | ---: | ---: |')
    for (const name of lock.names) {
      const i = lock.names.indexOf(name)
      const before = name.endsWith(' (before)') ? name : `${name} (before)`
      const versus = name === before ? '1.00' : ratio(lock, name, before)
      console.log(
        `| ${name} | ${format(median(lock.rates.map((row) => row[i] as number)))} | ${versus} |`,
      )
    }
  }
}

for (const close of closers) await close()
await pgDatabase?.dispose()
rmSync(dir, { recursive: true, force: true })
