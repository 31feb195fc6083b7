// Paired comparison of this build's FileStore with another build's (BENCH_COMPARE) and with the
// plain fs baseline: the contenders take turns call by call, so a burst of load from other jobs
// hits all of them alike, and each figure is the median of thousands of single calls. On a
// shared machine this is what a before/after ratio should come from (see README).
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FileStore } from '@cellar/file'
import { type Contender, createContenders, prepare, removeRoot, root } from './contenders.js'

const comparePath = process.env.BENCH_COMPARE
if (comparePath === undefined)
  throw new Error('set BENCH_COMPARE to the other build (dist/index.js)')
const Compare = (
  (await import(pathToFileURL(resolve(comparePath)).href)) as { FileStore: typeof FileStore }
).FileStore
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(', ')
const all = createContenders(Compare)
await prepare(all)

const CALLS = Number(process.env.BENCH_CALLS ?? 4_000)
const find = (prefix: string) => all.find((c) => c.name.startsWith(prefix))!
const rows: Array<[string, keyof Contender, string[]]> = [
  [
    'get-hit',
    'hit',
    ['plain fs (callback', 'FileStore: store.get', 'FileStore, compared build: store.get'],
  ],
  [
    'set',
    'set',
    ['plain fs (callback', 'FileStore: store.get', 'FileStore, compared build: store.get'],
  ],
  [
    'lock',
    'lock',
    ['plain fs: writeFile(wx)', 'FileStore: lock', 'FileStore, compared build: lock'],
  ],
]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

console.log(
  `\n## Paired medians (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${root}, ${CALLS} calls each, taking turns, load average at start ${load})\n`,
)
console.log(
  '| op | plain fs µs | this build µs | × plain fs | compared build µs | × plain fs | speed, this ÷ compared |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [op, field, prefixes] of rows) {
  const fns = prefixes.map((prefix) => find(prefix)[field] as () => Promise<unknown>)
  const times: number[][] = fns.map(() => [])
  for (let i = 0; i < CALLS + CALLS / 10; i++) {
    // Rotate who goes first; the first tenth is warm-up and is not kept.
    for (let j = 0; j < fns.length; j++) {
      const k = (i + j) % fns.length
      const start = performance.now()
      await fns[k]!()
      if (i >= CALLS / 10) times[k]!.push(performance.now() - start)
    }
  }
  const [plain, own, other] = times.map((t) => median(t) * 1_000) as [number, number, number]
  console.log(
    `| ${op} | ${plain.toFixed(1)} | ${own.toFixed(1)} | ${(plain / own).toFixed(2)} | ${other.toFixed(1)} | ${(plain / other).toFixed(2)} | ${(other / own).toFixed(2)} |`,
  )
}

for (const contender of all) await contender.close?.()
removeRoot()
