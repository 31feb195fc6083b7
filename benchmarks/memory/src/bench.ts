import { cpus } from 'node:os'
import { bench, group, run, summary } from 'mitata'
import { codecBenchmarks } from './codecs.js'
import { createContenders, prepare } from './contenders.js'
import { codecReport, markdownReport, OPS, type Op, type Results } from './report.js'

// All contenders share this one process, so each runs under the same JIT and GC conditions.
const contenders = createContenders()
await prepare(contenders)

const names = new Map<string, { op: Op; contender: string }>()
for (const op of OPS) {
  group(op, () => {
    summary(() => {
      for (const contender of contenders) {
        const name = `${op}: ${contender.name}`
        names.set(name, { op, contender: contender.name })
        const fn =
          op === 'get-hit' ? contender.hit : op === 'get-miss' ? contender.miss : contender.set
        bench(name, fn)
      }
    })
  })
}
const codecNames = new Set<string>()
group('serializer alone', () => {
  for (const [name, fn] of codecBenchmarks()) {
    codecNames.add(name)
    bench(name, fn)
  }
})

const { benchmarks } = await run()

const results: Results = new Map(OPS.map((op) => [op, new Map()]))
const codecs = new Map<string, number>()
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats
  if (stats === undefined) throw new Error(`benchmark "${trial.alias}" failed`)
  const entry = names.get(trial.alias)
  if (entry !== undefined) results.get(entry.op)!.set(entry.contender, stats.avg)
  else if (codecNames.has(trial.alias)) codecs.set(trial.alias, stats.avg)
}

const cpu = cpus()
console.log(
  `\n## Results (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'})\n`,
)
console.log(markdownReport(contenders, results))
console.log(`\n${codecReport(codecs)}`)

for (const contender of contenders) await contender.close?.()
