import { cpus, loadavg } from 'node:os'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { measure } from 'mitata'
import { type Contender, createContenders, createLockContenders, prepare } from './contenders.js'
import { KEYS, USER } from './fixture.js'
import { CACHE_OPS, type CacheOp, type Job, LOCK_OP, markdownReport } from './report.js'

// All contenders share one process and one private Redis (no persistence). Every job is warmed
// first, then timed in rounds, each in a new shuffled order; medians over rounds are reported.
// One iteration runs `concurrency` operations at once and waits for all of them.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 150) * 1e6
const WARMUP_MS = 300
const CONCURRENCY = [1, 64] as const
// Optional regular expression over "<op> c=<concurrency> <contender>", to time a subset.
const ONLY = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY)

const server = process.env.REDIS_URL === undefined ? await startRedis() : undefined
const url = server?.url ?? process.env.REDIS_URL!
const { hostname, port } = new URL(url)
const admin = new Redis(url)
const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown'

const contenders = await createContenders(url, hostname, Number(port || 6379))
await prepare(contenders)
const lockers = await createLockContenders(url)

function operation(contender: Contender, op: CacheOp): (i: number) => Promise<unknown> {
  const batch = (i: number) => {
    const start = (i * 100) % (KEYS.length - 100)
    return KEYS.slice(start, start + 100)
  }
  if (op === 'get-hit') return (i) => contender.get(KEYS[i % KEYS.length]!)
  if (op === 'set') return (i) => contender.set(KEYS[i % KEYS.length]!, USER)
  return (i) => contender.getMany(batch(i))
}

const jobs: Job[] = []
const wanted = (op: string, concurrency: number, name: string) =>
  ONLY === undefined || ONLY.test(`${op} c=${concurrency} ${name}`)
for (const op of CACHE_OPS) {
  for (const concurrency of CONCURRENCY) {
    for (const contender of contenders) {
      if (!wanted(op, concurrency, contender.name)) continue
      const run = operation(contender, op)
      let next = 0
      const fn =
        concurrency === 1
          ? () => run(next++)
          : () => Promise.all(Array.from({ length: concurrency }, () => run(next++)))
      jobs.push({
        op,
        concurrency,
        contender: contender.name,
        fn,
        enter: contender.enter,
        leave: contender.leave,
        samples: [],
        cpu: [],
      })
    }
  }
}
// Locks at concurrency 1: one acquire + release of a lock nobody else holds, per iteration.
for (const locker of lockers) {
  if (!wanted(LOCK_OP, 1, locker.name)) continue
  let next = 0
  const fn = () => locker.acquireRelease(`job-${next++ % 100}`)
  jobs.push({ op: LOCK_OP, concurrency: 1, contender: locker.name, fn, samples: [], cpu: [] })
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')
const started = performance.now()
const loadBefore = load()
for (const job of jobs) {
  job.enter?.()
  const until = performance.now() + WARMUP_MS
  while (performance.now() < until) await job.fn()
  job.leave?.()
}
let seed = 42
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
const shuffle = <T>(items: readonly T[]): T[] => {
  const order = [...items]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}
// The contenders of one operation and concurrency run back to back, so a burst of load from
// elsewhere hits them alike; ratios are taken within each round (see report.ts).
const groups = [...new Set(jobs.map((job) => `${job.op} ${job.concurrency}`))].map((id) =>
  jobs.filter((job) => `${job.op} ${job.concurrency}` === id),
)
for (let round = 1; round <= ROUNDS; round++) {
  for (const group of shuffle(groups)) {
    for (const job of shuffle(group)) {
      job.enter?.()
      const cpu = process.cpuUsage()
      const stats = await measure(job.fn, { min_cpu_time: CPU_TIME_NS, batch_threshold: 0 })
      const used = process.cpuUsage(cpu)
      job.leave?.()
      job.samples.push(stats.avg)
      // CPU time of this process per operation: what the library costs, whatever else the
      // machine runs (mitata's few warm-up calls are counted in, for everyone alike).
      job.cpu.push((used.user + used.system) / (stats.ticks * job.concurrency))
    }
  }
  const elapsed = ((performance.now() - started) / 1000).toFixed(0)
  process.stdout.write(`round ${round}/${ROUNDS} done (${elapsed} s)\n`)
}

const cpu = cpus()
const date = new Date().toISOString().slice(0, 10)
console.log(
  `\n## Results (${date}, Redis ${version} on loopback, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; median of ${ROUNDS} rounds; load average ${loadBefore} before, ${load()} after)\n`,
)
console.log(markdownReport(contenders, jobs))

for (const contender of contenders) await contender.close()
for (const locker of lockers) await locker.close()
await admin.quit()
await server?.stop()
