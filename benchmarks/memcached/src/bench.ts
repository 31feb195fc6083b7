import { cpus, loadavg } from 'node:os'
import { useMemcached } from '@cellar/test-servers'
import { Client } from 'memjs'
import { measure } from 'mitata'
import {
  type Contender,
  createContenders,
  fixture,
  KEYS,
  loadBaseline,
  prepare,
} from './contenders.js'
import { type Cell, markdown } from './report.js'

// All contenders share this process and one memcached, each over its own connection. Every job
// is warmed first, then timed in rounds, each round in a new shuffled order; a figure is the
// fastest round, since other load on the machine can only slow a round down. With
// BENCH_BASELINE=<another checkout, built>, that checkout's cellar runs beside this one.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8)
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 600) * 1e6
const CONCURRENCY = [1, 64] as const
const OPS = ['get-hit', 'set', 'lock'] as const
/** Operations per timed call: `c` workers, each doing its share one after another. */
const PER_CALL = { 1: 128, 64: 1_024 } as const

type Op = (typeof OPS)[number]

const server = await useMemcached()
if (server === undefined) throw new Error('no memcached to benchmark against')
const version = await serverVersion(server.servers)
const baselineRoot = process.env.BENCH_BASELINE
const baseline = baselineRoot ? await loadBaseline(baselineRoot) : undefined
const contenders = createContenders(server.servers, baseline)
await prepare(contenders)

function batch(contender: Contender, op: Op, concurrency: 1 | 64): () => Promise<void> {
  const perWorker = PER_CALL[concurrency] / concurrency
  let next = 0
  // Each worker takes and releases locks of its own, so no acquire ever finds one held.
  const worker = async (id: number) => {
    for (let i = 0; i < perWorker; i++) {
      const key = `key:${next++ % KEYS}`
      if (op === 'get-hit') await contender.get(key)
      else if (op === 'set') await contender.set(key, fixture)
      else await contender.lock!(`lock:${id}:${i % 16}`)
    }
  }
  return async () => {
    await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)))
  }
}

interface Job {
  readonly op: Op
  readonly concurrency: 1 | 64
  readonly contender: string
  readonly fn: () => Promise<void>
  readonly samples: number[]
  /** Process CPU time per operation of each round, in µs (steadier than ops/s under load). */
  readonly cpu: number[]
}

const jobs: Job[] = OPS.flatMap((op) =>
  CONCURRENCY.flatMap((concurrency) =>
    contenders
      .filter((contender) => op !== 'lock' || contender.lock !== undefined)
      .map((contender) => ({
        op,
        concurrency,
        contender: contender.name,
        fn: batch(contender, op, concurrency),
        samples: [] as number[],
        cpu: [] as number[],
      })),
  ),
)

const started = performance.now()
const loadBefore = loadavg()[0]!.toFixed(1)
for (const job of jobs) for (let i = 0; i < 40; i++) await job.fn()
let seed = 42
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
    let calls = 0
    const counted = () => {
      calls++
      return job.fn()
    }
    const cpu = process.cpuUsage()
    const stats = await measure(counted, { min_cpu_time: CPU_TIME_NS, min_samples: 10 })
    const used = process.cpuUsage(cpu)
    job.samples.push((PER_CALL[job.concurrency] / stats.avg) * 1e9)
    job.cpu.push((used.user + used.system) / (calls * PER_CALL[job.concurrency]))
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  process.stdout.write(`round ${round}/${ROUNDS} done (${seconds} s)\n`)
}

const cells: Cell[] = jobs.map((job) => ({
  op: job.op,
  concurrency: job.concurrency,
  contender: job.contender,
  opsPerSecond: Math.max(...job.samples),
  spread: Math.min(...job.samples) / Math.max(...job.samples),
  cpuMicros: Math.min(...job.cpu),
}))
for (const contender of contenders) await contender.close()

process.stdout.write(
  markdown(cells, {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    memcached: version,
    cpu: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    load: `${loadBefore} → ${loadavg()[0]!.toFixed(1)}`,
    rounds: ROUNDS,
  }),
)
process.exit(0)

function serverVersion(servers: string): Promise<string> {
  const client = Client.create(servers, { logger: { log() {} } })
  return new Promise((resolve) => {
    client.stats((_error, _server, stats) => {
      client.close()
      resolve(stats?.version ?? 'unknown')
    })
  })
}
