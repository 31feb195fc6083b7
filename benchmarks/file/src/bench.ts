import { cpus } from 'node:os'
import { bench, group, run, summary } from 'mitata'
import { createContenders, prepare, productBytes, removeRoot } from './contenders.js'

// All contenders share this one process, so each runs under the same JIT and GC conditions.
const contenders = createContenders()
await prepare(contenders)

const OPS = ['get-hit', 'set'] as const
type Op = (typeof OPS)[number]
const names = new Map<string, { op: Op; contender: string }>()
for (const op of OPS) {
  group(op, () => {
    summary(() => {
      for (const contender of contenders) {
        const fn = op === 'get-hit' ? contender.hit : contender.set
        if (fn === undefined) continue
        const name = `${op}: ${contender.name}`
        names.set(name, { op, contender: contender.name })
        bench(name, fn)
      }
    })
  })
}

const { benchmarks } = await run()
const avg = new Map<Op, Map<string, number>>(OPS.map((op) => [op, new Map()]))
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats
  if (stats === undefined) throw new Error(`benchmark "${trial.alias}" failed`)
  const entry = names.get(trial.alias)
  if (entry !== undefined) avg.get(entry.op)!.set(entry.contender, stats.avg)
}

const cpu = cpus()
const baseline = contenders[0]!.name
const format = (n: number) => Math.round(n).toLocaleString('en-US')
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, value ${productBytes().length} B)\n`,
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
