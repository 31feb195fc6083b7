import type { Contender } from './contenders.js'

export const CACHE_OPS = ['get-hit', 'set', 'getMany(100)'] as const
export type CacheOp = (typeof CACHE_OPS)[number]
export const LOCK_OP = 'lock acquire + release'
export const OPS = [...CACHE_OPS, LOCK_OP] as const
export type Op = (typeof OPS)[number]

/** One timed combination: its iteration runs `concurrency` operations at once. */
export interface Job {
  readonly op: Op
  readonly concurrency: number
  readonly contender: string
  readonly fn: () => Promise<unknown>
  /** Runs before each timed run of this job (and its warm-up); `leave` undoes it. */
  readonly enter?: (() => void) | undefined
  readonly leave?: (() => void) | undefined
  /** Mean nanoseconds per iteration, one per round. */
  readonly samples: number[]
  /** Microseconds of this process's CPU per operation, one per round. */
  readonly cpu: number[]
}

/** The row every ratio of a table is taken against: raw ioredis, for caching and for locks. */
const REFERENCE: Record<Op, string> = {
  'get-hit': 'ioredis + msgpack, auto-pipelined',
  set: 'ioredis + msgpack, auto-pipelined',
  'getMany(100)': 'ioredis + msgpack, auto-pipelined',
  [LOCK_OP]: 'ioredis SET NX PX + Lua release',
}
/** The other libraries (not cellar's own variants, not raw ioredis), and cellar's pre-change build. */
const PEER = /^(Keyv|cache-manager|BentoCache|verrou|redlock|cellar before)/

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Operations per second of a job (its median round), and the range over rounds. */
export function opsPerSecond(job: Job): { median: number; low: number; high: number } {
  const rate = (ns: number) => (job.concurrency * 1e9) / ns
  return {
    median: rate(median(job.samples)),
    low: rate(Math.max(...job.samples)),
    high: rate(Math.min(...job.samples)),
  }
}

function format(rate: number): string {
  return rate >= 10_000 ? `${(rate / 1000).toFixed(0)}k` : `${(rate / 1000).toFixed(2)}k`
}

/** One table per operation and concurrency: ops/s (range over rounds) and ratio to the reference. */
export function markdownReport(contenders: readonly Contender[], jobs: readonly Job[]): string {
  const out: string[] = []
  for (const op of OPS) {
    for (const concurrency of [...new Set(jobs.map((job) => job.concurrency))]) {
      const rows = jobs.filter((job) => job.op === op && job.concurrency === concurrency)
      if (rows.length === 0) continue
      const reference = rows.find((job) => job.contender === REFERENCE[op])
      out.push(`### ${op}, concurrency ${concurrency}\n`)
      out.push(`| contender | ops/s | range | × ${REFERENCE[op]} | CPU µs/op |`)
      out.push('| --- | ---: | ---: | ---: | ---: |')
      for (const job of rows) {
        const rate = opsPerSecond(job)
        const note = contenders.find((c) => c.name === job.contender)?.note
        const name =
          op === 'getMany(100)' && note !== undefined ? `${job.contender} ¹` : job.contender
        // The median of per-round ratios: each round timed both back to back, under one load.
        const ratio =
          reference === undefined
            ? ''
            : `${median(job.samples.map((ns, i) => reference.samples[i]! / ns)).toFixed(2)}×`
        const cpu = median(job.cpu)
        out.push(
          `| ${name} | ${format(rate.median)} | ${format(rate.low)}–${format(rate.high)} | ${ratio} | ${cpu.toFixed(cpu >= 100 ? 0 : 1)} |`,
        )
      }
      const cellar = rows.find((job) => job.contender === 'cellar')
      const peers = rows.filter((job) => PEER.test(job.contender))
      if (cellar !== undefined && peers.length > 0) {
        // Per round, both ran back to back under one load: the ratio is steadier than ops/s.
        const versus = peers.map((peer) => {
          const ratios = cellar.samples.map((ns, i) => peer.samples[i]! / ns)
          const led = ratios.filter((ratio) => ratio > 1).length
          return `${peer.contender} ${median(ratios).toFixed(2)}× (led ${led}/${ratios.length})`
        })
        out.push(`\ncellar ÷ peer, median of per-round ratios: ${versus.join('; ')}`)
      }
      const notes = contenders.filter(
        (c) => c.note !== undefined && rows.some((job) => job.contender === c.name),
      )
      if (op === 'getMany(100)') for (const c of notes) out.push(`\n¹ ${c.name}: ${c.note}`)
      out.push('')
    }
  }
  return out.join('\n')
}
