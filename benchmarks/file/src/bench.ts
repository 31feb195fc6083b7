import { execFileSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FileStore } from '@cellar/file'
import { bench, group, run, summary } from 'mitata'
import { createContenders, prepare, productBytes, removeRoot, root } from './contenders.js'

// BENCH_COMPARE=<another build's dist/index.js> adds that build's FileStore rows, so a
// before/after ratio comes from one process rather than from two runs on a shared machine.
const comparePath = process.env.BENCH_COMPARE
const Compare =
  comparePath === undefined
    ? undefined
    : ((await import(pathToFileURL(resolve(comparePath)).href)) as { FileStore: typeof FileStore })
        .FileStore
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(', ')

// All contenders share this one process, so each runs under the same JIT and GC conditions.
const contenders = createContenders(Compare)
await prepare(contenders)

const OPS = ['get-hit', 'set', 'lock'] as const
type Op = (typeof OPS)[number]
// Other work on the machine only ever slows a benchmark down, so each contender is measured in
// several rounds spread over the run and its best round is kept.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const names = new Map<string, { op: Op; contender: string }>()
for (let round = 1; round <= ROUNDS; round++) {
  for (const op of OPS) {
    group(`${op} (round ${round})`, () => {
      summary(() => {
        // Each round starts at another contender, so none always runs right after the heavy writes
        // of the same one (on a real disk, writeback of earlier writes slows whoever comes next).
        const shift = ((round - 1) * 3) % contenders.length
        for (const contender of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
          const fn =
            op === 'get-hit' ? contender.hit : op === 'set' ? contender.set : contender.lock
          if (fn === undefined) continue
          const name = `${op} r${round}: ${contender.name}`
          names.set(name, { op, contender: contender.name })
          bench(name, fn)
        }
      })
    })
  }
}

const { benchmarks } = await run()
const avg = new Map<Op, Map<string, number>>(OPS.map((op) => [op, new Map()]))
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats
  if (stats === undefined) throw new Error(`benchmark "${trial.alias}" failed`)
  const entry = names.get(trial.alias)
  if (entry === undefined) continue
  const best = avg.get(entry.op)!
  best.set(entry.contender, Math.min(best.get(entry.contender) ?? Infinity, stats.avg))
}

const cpu = cpus()
// Each op's baseline is the first contender that has it (plain fs).
const baseline = (op: Op) => contenders.find((c) => avg.get(op)!.has(c.name))!.name
const fsType = (() => {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', root], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown fs'
  }
})()
const format = (n: number) => Math.round(n).toLocaleString('en-US')
function table(ops: readonly Op[]): void {
  console.log(`| contender | ${ops.map((op) => `${op} ops/s | × plain fs`).join(' | ')} |`)
  console.log(`| --- |${' ---: | ---: |'.repeat(ops.length)}`)
  for (const contender of contenders) {
    if (!ops.some((op) => avg.get(op)!.has(contender.name))) continue
    const cells = ops.flatMap((op) => {
      const ns = avg.get(op)!.get(contender.name)
      const base = avg.get(op)!.get(baseline(op))!
      return ns === undefined ? ['—', '—'] : [format(1e9 / ns), (base / ns).toFixed(2)]
    })
    console.log(`| ${contender.name} | ${cells.join(' | ')} |`)
  }
}
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, value ${productBytes().length} B, ${root} on ${fsType}, best of ${ROUNDS} rounds, load average at start ${load})\n`,
)
table(['get-hit', 'set'])
console.log('')
table(['lock'])

for (const contender of contenders) await contender.close?.()
removeRoot()
