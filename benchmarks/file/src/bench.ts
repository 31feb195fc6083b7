import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { bench, group, run, summary } from 'mitata'
import { createContenders, prepare, productBytes, removeRoot, root } from './contenders.js'

// All contenders share this one process, so each runs under the same JIT and GC conditions.
const contenders = createContenders()
await prepare(contenders)

const OPS = ['get-hit', 'set'] as const
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
          const fn = op === 'get-hit' ? contender.hit : contender.set
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
const baseline = contenders[0]!.name
const fsType = (() => {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', root], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown fs'
  }
})()
const format = (n: number) => Math.round(n).toLocaleString('en-US')
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, value ${productBytes().length} B, ${root} on ${fsType}, best of ${ROUNDS} rounds)\n`,
)
console.log('| contender | get-hit ops/s | × plain fs | set ops/s | × plain fs |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const contender of contenders) {
  const cells = OPS.flatMap((op) => {
    const ns = avg.get(op)!.get(contender.name)
    const base = avg.get(op)!.get(baseline)!
    return ns === undefined ? ['—', '—'] : [format(1e9 / ns), (base / ns).toFixed(2)]
  })
  console.log(`| ${contender.name} | ${cells.join(' | ')} |`)
}

for (const contender of contenders) await contender.close?.()
removeRoot()
