import { cpus, loadavg } from 'node:os'
import { useMemcached } from '@cellar/test-servers'
import { Client } from 'memjs'
import { measure } from 'mitata'
import { type Contender, createContenders, fixture, KEYS, prepare } from './contenders.js'
import { type Cell, markdown } from './report.js'

// All contenders share this process and one memcached, each over its own connection. Every job
// is warmed first, then timed in rounds, each round in a new shuffled order; a figure is the
// fastest round, since other load on the machine can only slow a round down.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8)
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 600) * 1e6
const CONCURRENCY = [1, 64] as const
const OPS = ['get-hit', 'set'] as const
/** Operations per timed call: `c` workers, each doing its share one after another. */
const PER_CALL = { 1: 128, 64: 1_024 } as const

type Op = (typeof OPS)[number]

const server = await useMemcached()
if (server === undefined) throw new Error('no memcached to benchmark against')
const version = await serverVersion(server.servers)
const contenders = createContenders(server.servers)
await prepare(contenders)

function batch(contender: Contender, op: Op, concurrency: 1 | 64): () => Promise<void> {
  const perWorker = PER_CALL[concurrency] / concurrency
  let next = 0
  const worker = async () => {
    for (let i = 0; i < perWorker; i++) {
      const key = `key:${next++ % KEYS}`
      if (op === 'get-hit') await contender.get(key)
      else await contender.set(key, fixture)
    }
  }
  return async () => {
    await Promise.all(Array.from({ length: concurrency }, worker))
  }
}

interface Job {
  readonly op: Op
  readonly concurrency: 1 | 64
  readonly contender: string
  readonly fn: () => Promise<void>
  readonly samples: number[]
}

const jobs: Job[] = OPS.flatMap((op) =>
  CONCURRENCY.flatMap((concurrency) =>
    contenders.map((contender) => ({
      op,
      concurrency,
      contender: contender.name,
      fn: batch(contender, op, concurrency),
      samples: [] as number[],
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
    const stats = await measure(job.fn, { min_cpu_time: CPU_TIME_NS, min_samples: 10 })
    job.samples.push((PER_CALL[job.concurrency] / stats.avg) * 1e9)
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
