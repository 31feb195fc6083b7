// Paired medians: for each operation, every contender that has it takes a turn, call by call, so
// a burst of load from other jobs hits all of them alike, and each figure is the median of
// thousands of single calls. On a shared machine the ratios of this run are the ones to quote;
// bench.ts (mitata, throughput per contender) needs a quiet machine. BENCH_COMPARE adds another
// build's FileStore (e.g. the code before a change) for before/after ratios.
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FileStore } from '@cellar/file'
import { createContenders, prepare, removeRoot, root } from './contenders.js'

const comparePath = process.env.BENCH_COMPARE
const Compare =
  comparePath === undefined
    ? undefined
    : ((await import(pathToFileURL(resolve(comparePath)).href)) as { FileStore: typeof FileStore })
        .FileStore
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(', ')
const contenders = createContenders(Compare)
await prepare(contenders)

const CALLS = Number(process.env.BENCH_CALLS ?? 3_000)
const OPS = [
  ['get-hit', 'hit'],
  ['set', 'set'],
  ['lock', 'lock'],
] as const
type Op = (typeof OPS)[number][0]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
// op → contender name → median µs per call
const results = new Map<Op, Map<string, number>>()
for (const [op, field] of OPS) {
  const players = contenders.filter((c) => c[field] !== undefined)
  const times: number[][] = players.map(() => [])
  const warmUp = CALLS / 10
  for (let i = 0; i < CALLS + warmUp; i++) {
    // Rotate who goes first; the warm-up calls are not kept.
    for (let j = 0; j < players.length; j++) {
      const k = (i + j) % players.length
      const start = performance.now()
      await (players[k]![field] as () => Promise<unknown>)()
      if (i >= warmUp) times[k]!.push(performance.now() - start)
    }
  }
  results.set(op, new Map(players.map((p, k) => [p.name, median(times[k]!) * 1_000])))
}

console.log(
  `\n## Paired medians (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${root}, ${CALLS} calls per contender, taking turns, load average at start ${load})\n`,
)
for (const ops of [['get-hit', 'set'], ['lock']] as const) {
  console.log(`| contender | ${ops.map((op) => `${op} µs | × plain fs`).join(' | ')} |`)
  console.log(`| --- |${' ---: | ---: |'.repeat(ops.length)}`)
  for (const contender of contenders) {
    const own = ops.map((op) => results.get(op)!.get(contender.name))
    if (own.every((us) => us === undefined)) continue
    const cells = ops.flatMap((op, i) => {
      const us = own[i]
      // The baseline of each op is its first contender (plain fs).
      const base = results.get(op)!.values().next().value!
      return us === undefined ? ['—', '—'] : [us.toFixed(1), (base / us).toFixed(2)]
    })
    console.log(`| ${contender.name} | ${cells.join(' | ')} |`)
  }
  console.log('')
}

for (const contender of contenders) await contender.close?.()
removeRoot()
