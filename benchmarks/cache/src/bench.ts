import { cpus, loadavg } from 'node:os'
import {
  KEYS,
  memoryScenario,
  redisScenario,
  type Scenario,
  tieredScenario,
  USER,
} from './contenders.js'
import { countCommands } from './round-trips.js'

// Paired timing for a busy machine: in every iteration each contender of an operation runs one
// sample (`batch` calls in a row) in a fresh shuffled order, each sample timed on its own. A
// stall from another process lands on one sample, not on a whole contender, and every ratio
// is the median of per-iteration ratios of samples taken moments apart.
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_500)
const WARM_UP = 50
const OPS = ['get', 'put', 'remember', 'tagsGet'] as const

interface Row {
  readonly contender: string
  readonly fn: () => Promise<unknown>
  readonly times: number[]
}

// Started by run.ts (`pnpm bench`): a private server, so MONITOR sees only this process.
const url = process.env.REDIS_URL
if (url === undefined) throw new Error('REDIS_URL is not set: run the bench with `pnpm bench`')
const { hostname, port } = new URL(url)
const redisPort = Number(port || 6379)
const only = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY)
// Only the scenarios asked for are built (no idle connections, no idle instances).
const scenarios: Scenario[] = [
  ['memory', () => memoryScenario()] as const,
  ['Redis', () => redisScenario(url, hostname, redisPort)] as const,
  ['tiered (L1 hits)', () => tieredScenario(url, hostname, redisPort)] as const,
]
  .filter(([name]) => only === undefined || only.test(name))
  .map(([, make]) => make())
const who = process.env.BENCH_WHO === undefined ? undefined : new RegExp(process.env.BENCH_WHO)

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
let seed = 7
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const format = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0)

const output: string[] = []
const loadBefore = load()
for (const scenario of scenarios) {
  for (const contender of scenario.contenders) await contender.prepare()
  output.push(`\n### ${scenario.name} (load average ${load()} at its start)\n`)
  output.push('| contender | op | ops/s (median sample) | vs gateway | vs cellar facade |')
  output.push('| --- | --- | ---: | ---: | ---: |')
  for (const op of OPS) {
    const rows: Row[] = []
    for (const contender of scenario.contenders) {
      const run = contender[op] as ((key: string, value?: unknown) => Promise<unknown>) | undefined
      if (run === undefined || (who !== undefined && !who.test(contender.name))) continue
      let next = 0
      const fn = () => run(KEYS[next++ % KEYS.length]!, USER)
      rows.push({ contender: contender.name, fn, times: [] })
    }
    if (rows.length === 0) continue
    for (const row of rows) for (let i = 0; i < 2_000; i++) await row.fn()
    const batch = scenario.batch
    for (let i = -WARM_UP; i < ITERATIONS; i++) {
      const order = [...rows]
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1))
        ;[order[k], order[j]] = [order[j]!, order[k]!]
      }
      for (const row of order) {
        const started = performance.now()
        for (let call = 0; call < batch; call++) await row.fn()
        const took = performance.now() - started
        if (i >= 0) row.times.push(took)
      }
    }
    const limit = rows.find((row) => row.contender.startsWith('gateway'))
    const ours = rows.find((row) => row.contender.startsWith('cellar facade'))
    // Per-iteration ratios of speeds: above 1 means faster than the base in that iteration.
    const ratio = (row: Row, base: Row | undefined) =>
      base === undefined
        ? '—'
        : `${median(row.times.map((t, i) => base.times[i]! / t)).toFixed(2)}×`
    for (const row of rows) {
      const opsPerSecond = (batch * 1_000) / median(row.times)
      output.push(
        `| ${row.contender} | ${op} | ${format(opsPerSecond)} | ${ratio(row, limit)} | ${ratio(row, ours)} |`,
      )
    }
    process.stdout.write(`${scenario.name} ${op} done\n`)
  }
}

// Store commands per call on Redis (MONITOR on the bench's own server), outside the timing.
const counts: string[] = []
const redis = scenarios.find((s) => s.name === 'Redis')
const tiered = scenarios.find((s) => s.name.startsWith('tiered'))
for (const [scenario, op] of [
  [redis, 'get'],
  [redis, 'tagsGet'],
  [redis, 'remember'],
  [tiered, 'get'],
] as const) {
  if (scenario === undefined) continue
  for (const contender of scenario.contenders) {
    const run = contender[op]
    if (run === undefined) continue
    const perCall = await countCommands(url, 200, (i) => run(KEYS[i % KEYS.length]!))
    counts.push(`| ${scenario.name} | ${contender.name} | ${op} | ${perCall.summary} |`)
  }
}

console.log(
  `\n## Results (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ${ITERATIONS} paired iterations; load average ${loadBefore} before, ${load()} after)`,
)
console.log(output.join('\n'))
console.log('\n### Redis commands per call (MONITOR, 200 calls each)\n')
console.log('| scenario | contender | op | commands per call |')
console.log('| --- | --- | --- | --- |')
console.log(counts.join('\n'))

for (const scenario of scenarios)
  for (const contender of scenario.contenders) await contender.close()
