import { cpus, loadavg } from 'node:os'
import { startRedis } from '@cellar/test-servers'
import { measure } from 'mitata'
import { type Contender, KEYS, memoryContenders, redisContenders, USER } from './contenders.js'

// Every contender in one process, interleaved: each round times every (scenario, op,
// contender) once, in a new shuffled order; ops/s is the median over rounds and every ratio is
// the median of per-round ratios, so a burst of load elsewhere hits the compared rows alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 120) * 1e6
const OPS = ['get', 'put', 'remember', 'tagsGet'] as const
type Op = (typeof OPS)[number]

interface Job {
  scenario: string
  op: Op
  contender: string
  fn: () => Promise<unknown>
  opsPerSecond: number[]
}

const server = process.env.REDIS_URL === undefined ? await startRedis() : undefined
const url = server?.url ?? process.env.REDIS_URL!
const { hostname, port } = new URL(url)
const scenarios: Array<[string, Contender[]]> = [
  ['memory', memoryContenders()],
  ['Redis', redisContenders(url, hostname, Number(port || 6379))],
]

const jobs: Job[] = []
for (const [scenario, contenders] of scenarios) {
  for (const contender of contenders) {
    await contender.prepare()
    for (const op of OPS) {
      const run = contender[op] as ((key: string, value?: unknown) => Promise<unknown>) | undefined
      if (run === undefined) continue
      let next = 0
      const fn = () => run(KEYS[next++ % KEYS.length]!, USER)
      jobs.push({ scenario, op, contender: contender.name, fn, opsPerSecond: [] })
    }
  }
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
const loadBefore = load()
for (const job of jobs) for (let i = 0; i < 2_000; i++) await job.fn()
let seed = 7
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
for (let round = 1; round <= ROUNDS; round++) {
  const order = [...jobs]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  for (const job of order) {
    const stats = await measure(job.fn, { min_cpu_time: CPU_TIME_NS, batch_threshold: 0 })
    job.opsPerSecond.push(1e9 / stats.avg)
  }
  process.stdout.write(`round ${round}/${ROUNDS}\n`)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
const format = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0)

const date = new Date().toISOString().slice(0, 10)
console.log(
  `\n## Results (${date}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ${ROUNDS} rounds; load average ${loadBefore} before, ${load()} after)\n`,
)
for (const [scenario] of scenarios) {
  console.log(`\n### ${scenario}\n`)
  console.log('| contender | op | ops/s | vs gateway | vs cellar facade |')
  console.log('| --- | --- | ---: | ---: | ---: |')
  for (const op of OPS) {
    const rows = jobs.filter((job) => job.scenario === scenario && job.op === op)
    const limit = rows.find((job) => job.contender.startsWith('gateway'))
    const ours = rows.find((job) => job.contender.startsWith('cellar facade'))
    const ratio = (job: Job, base: Job | undefined) =>
      base === undefined
        ? '—'
        : `${median(job.opsPerSecond.map((value, i) => value / base.opsPerSecond[i]!)).toFixed(2)}×`
    for (const job of rows) {
      console.log(
        `| ${job.contender} | ${op} | ${format(median(job.opsPerSecond))} | ${ratio(job, limit)} | ${ratio(job, ours)} |`,
      )
    }
  }
}

for (const [, contenders] of scenarios) for (const contender of contenders) await contender.close()
await server?.stop()
