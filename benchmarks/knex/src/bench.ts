import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { usePostgres } from '@cellar/test-servers'
import { bench, group, run, summary } from 'mitata'
import { type Contender, createContenders, type Database, KEYS, VALUE } from './contenders.js'

// Every contender runs in this one process, under the same JIT and GC conditions. Other work on
// the machine only ever slows a benchmark down, so each one runs in several rounds spread over
// the run and its best round is kept.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const OPS = ['get-hit', 'set'] as const
type Op = (typeof OPS)[number]

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

const families: Array<{ dialect: string; contenders: Contender[]; close: () => Promise<void> }> = []
for (const db of databases) {
  const { contenders, close } = await createContenders(db)
  for (const contender of contenders) {
    for (let i = 0; i < KEYS; i++) await contender.set(`k${i}`, VALUE)
  }
  families.push({ dialect: db.dialect, contenders, close })
}

const names = new Map<string, { dialect: string; op: Op; contender: string }>()
for (let round = 1; round <= ROUNDS; round++) {
  for (const { dialect, contenders } of families) {
    for (const op of OPS) {
      group(`${dialect} ${op} (round ${round})`, () => {
        summary(() => {
          const shift = (round - 1) % contenders.length
          for (const contender of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
            const name = `${dialect} ${op} r${round}: ${contender.name}`
            names.set(name, { dialect, op, contender: contender.name })
            let i = 0
            bench(
              name,
              // Awaited here: knex queries are thenables that only run when awaited.
              op === 'get-hit'
                ? async () => await contender.get(`k${i++ % KEYS}`)
                : async () => await contender.set(`k${i++ % KEYS}`, VALUE),
            )
          }
        })
      })
    }
  }
}

const { benchmarks } = await run({
  format: process.env.BENCH_FORMAT === 'json' ? 'json' : 'mitata',
})
const best = new Map<string, number>()
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats
  if (stats === undefined)
    throw new Error(`benchmark "${trial.alias}" failed: ${trial.runs[0]?.error}`)
  const entry = names.get(trial.alias)
  if (entry === undefined) continue
  const id = `${entry.dialect}\t${entry.op}\t${entry.contender}`
  best.set(id, Math.min(best.get(id) ?? Number.POSITIVE_INFINITY, stats.avg))
}

// Ratios from paired, interleaved slices: the machine's load moves between mitata's blocks, so
// each contender also runs in short slices alternating with the baseline (ABBA order), and the
// median of the per-pair ratios is reported. Drift in load hits both sides of a pair alike.
const SLICE_MS = 40
const PAIRS = Number(process.env.BENCH_PAIRS ?? 30)
async function rate(fn: (i: number) => Promise<unknown>, start: number): Promise<number> {
  const began = performance.now()
  let n = 0
  while (performance.now() - began < SLICE_MS) await fn(start + n++)
  return n / (performance.now() - began)
}
async function pairedRatio(
  base: (i: number) => Promise<unknown>,
  other: (i: number) => Promise<unknown>,
): Promise<number> {
  const ratios: number[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    const first = pair % 2 === 0
    const a = first ? await rate(base, pair * 1000) : 0
    const b = await rate(other, pair * 1000)
    const c = first ? 0 : await rate(base, pair * 1000)
    ratios.push(b / (first ? a : c))
  }
  ratios.sort((x, y) => x - y)
  return ratios[Math.floor(ratios.length / 2)] as number
}
const paired = new Map<string, number>()
for (const { dialect, contenders } of families) {
  const [baseline] = contenders
  if (baseline === undefined) continue
  for (const op of OPS) {
    const call = (contender: Contender) =>
      op === 'get-hit'
        ? async (i: number) => await contender.get(`k${i % KEYS}`)
        : async (i: number) => await contender.set(`k${i % KEYS}`, VALUE)
    for (const contender of contenders.slice(1)) {
      const ratio = await pairedRatio(call(baseline), call(contender))
      paired.set(`${dialect}\t${op}\t${contender.name}`, ratio)
    }
  }
}

const cpu = cpus()
const format = (n: number) => Math.round(n).toLocaleString('en-US')
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, load ${loadavg()[0]?.toFixed(2)}, value ${VALUE.length} B, best of ${ROUNDS} mitata rounds; paired ratios: median of ${PAIRS} interleaved ${SLICE_MS} ms slice pairs; one operation at a time)\n`,
)
for (const { dialect, contenders } of families) {
  const baseline = contenders[0]?.name as string
  console.log(
    `\n### ${dialect === 'sqlite' ? 'SQLite (better-sqlite3, file, WAL)' : 'PostgreSQL (pg, loopback)'}\n`,
  )
  console.log(
    '| contender | get-hit ops/s | × raw knex | paired × raw knex | set ops/s | × raw knex | paired × raw knex |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const contender of contenders) {
    const cells = OPS.flatMap((op) => {
      const id = `${dialect}\t${op}\t${contender.name}`
      const ns = best.get(id)
      const base = best.get(`${dialect}\t${op}\t${baseline}`)
      const pair = contender.name === baseline ? 1 : paired.get(id)
      return ns === undefined || base === undefined
        ? ['—', '—', '—']
        : [format(1e9 / ns), (base / ns).toFixed(2), pair === undefined ? '—' : pair.toFixed(2)]
    })
    console.log(`| ${contender.name} | ${cells.join(' | ')} |`)
  }
}

for (const family of families) await family.close()
await pgDatabase?.dispose()
rmSync(dir, { recursive: true, force: true })
