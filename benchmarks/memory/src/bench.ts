import { cpus, loadavg } from 'node:os'
import * as core from '@cellar/core'
import { do_not_optimize, measure } from 'mitata'
import { codecBenchmarks } from './codecs.js'
import { type Contender, createContenders, loadBuildBefore, prepare } from './contenders.js'
import { codecReport, markdownReport, OPS, type Op, type Results, targetReport } from './report.js'

// Every contender shares this one process, and so shares library code with the others
// (lru-cache sits under MemoryStore, BentoCache and the baseline). So: warm every operation
// of every contender first, then time them in rounds, each round in a new shuffled order. That
// way no contender profits from running while the JIT's view of shared code is still
// monomorphic. Each figure is the fastest round: other processes on the machine can only slow a
// round down, so the fastest is the best estimate of the cost itself; the spread is printed too.
// The clock is this process's CPU time by default (BENCH_CLOCK=wall for wall time): on a shared
// 2-core machine, time spent descheduled behind other processes is then not counted.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CLOCK = process.env.BENCH_CLOCK === 'wall' ? 'wall' : 'cpu'
const cpuNow = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}
const now = CLOCK === 'cpu' ? cpuNow : undefined
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 120) * 1e6
const WARMUP = 20_000

interface Job {
  readonly label: string
  readonly fn: () => unknown
  readonly record: (ns: number) => void
  readonly around?: (() => () => void) | undefined
}

const contenders = createContenders(await loadBuildBefore())
await prepare(contenders)

const samples = new Map<string, number[]>()
const record = (label: string) => {
  samples.set(label, []) // reserves the report order
  return (ns: number) => samples.get(label)!.push(ns)
}
const opFn = (c: Contender, op: Op) =>
  op === 'get-hit' ? c.hit : op === 'get-miss' ? c.miss : c.set
const jobs: Job[] = [
  ...OPS.flatMap((op) =>
    contenders.map((c) => ({
      label: `${op}\t${c.name}`,
      fn: opFn(c, op),
      record: record(`${op}\t${c.name}`),
      around: c.around,
    })),
  ),
  ...codecBenchmarks().map(([label, fn]) => ({ label, fn, record: record(label) })),
]
// What the gateway pays per store call for tracing when nobody subscribes.
const { isTracing } = core as { isTracing?: () => boolean }
if (isTracing !== undefined) {
  const label = 'isTracing() with no subscriber (checked once per gateway store call)'
  jobs.push({ label, fn: () => do_not_optimize(isTracing()), record: record(label) })
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')
const started = performance.now()
const loadBefore = load()
const warm = async (job: Job) => {
  for (let i = 0; i < WARMUP; i++) {
    const result = job.fn()
    if (result instanceof Promise) await result
  }
}
const time = async (job: Job) =>
  job.record((await measure(job.fn, { min_cpu_time: CPU_TIME_NS, ...(now && { now }) })).avg)
// Jobs with an `around` (the tracing subscriber) run last, inside one subscription: on Node 20
// every subscribe/unsubscribe swaps the channels' prototypes, and after a few swaps each
// `hasSubscribers` check costs ~50 ns instead of ~5 for the rest of the process, which would
// slow every other gateway row.
const plain = jobs.filter((job) => job.around === undefined)
const wrapped = jobs.filter((job) => job.around !== undefined)
for (const job of plain) await warm(job)
let seed = 42
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
for (let round = 1; round <= ROUNDS; round++) {
  const order = [...plain]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  for (const job of order) await time(job)
  process.stdout.write(
    `round ${round}/${ROUNDS} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
  )
}
for (const job of wrapped) {
  const undo = job.around?.()
  await warm(job)
  for (let round = 1; round <= ROUNDS; round++) await time(job)
  undo?.()
}

const fastest = (values: number[]) => Math.min(...values)
const results: Results = new Map(OPS.map((op) => [op, new Map()]))
const spread = new Map<string, [number, number]>()
const codecs = new Map<string, number>()
for (const [label, ns] of samples) {
  const [op, name] = label.split('\t') as [Op, string | undefined]
  if (name === undefined) codecs.set(label, fastest(ns))
  else {
    results.get(op)!.set(name, fastest(ns))
    spread.set(label, [Math.min(...ns), Math.max(...ns)])
  }
}

const cpu = cpus()
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; fastest of ${ROUNDS} rounds, ${CLOCK === 'cpu' ? 'process CPU time' : 'wall time'}; load average ${loadBefore} before, ${load()} after)\n`,
)
console.log(markdownReport(contenders, results, spread))
console.log(`\n${targetReport(results)}`)
console.log(`\n${codecReport(codecs)}`)

for (const contender of contenders) await contender.close?.()
