// One memory contender alone, for an instruction count under callgrind (load-independent):
//   node --single-threaded --predictable --hash-seed=1 --random-seed=1 --import tsx \
//     src/count.ts <contender> <warm-up ops> <measured ops>
// `callgrind.ts` runs this twice per contender (two measured lengths) and reports the difference
// per operation, so start-up, tsx and the warm-up cancel out. Contenders: map, map-async,
// map-result, fixed, sliding, bucket, fixed-sync (consumeSync, awaited), flexible; loop-map,
// loop-fixed, loop-sliding, loop-bucket (a plain loop, no await). `before:<contender>` runs the
// build in BENCH_BEFORE (see the README).
import { MemoryStore } from '@cellar/memory'
import {
  asyncMap,
  type Contender,
  cellar,
  cellarSync,
  flexibleMemory,
  type LimiterClass,
  rawMap,
  resultMap,
} from './contenders.js'
import { ALGORITHMS, rounds } from './cost-harness.js'

const [spec = 'fixed', warmArg = '100000', opsArg = '100000'] = process.argv.slice(2)
const warm = Number(warmArg)
const ops = Number(opsArg)
const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}`)

const old = spec.startsWith('before:')
const which = old ? spec.slice('before:'.length) : spec
const beforeDir = process.env.BENCH_BEFORE
if (old && beforeDir === undefined) throw new Error('before:<contender> needs BENCH_BEFORE')
const fromBefore = async (name: string) =>
  import(`${beforeDir}/node_modules/@cellar/${name}/dist/index.js`)
const build = old
  ? { label: 'before', RateLimiter: (await fromBefore('rate-limiter')).RateLimiter as LimiterClass }
  : undefined
const Store = old ? ((await fromBefore('memory')).MemoryStore as typeof MemoryStore) : MemoryStore
const store = new Store()

type Short = keyof typeof ALGORITHMS

function contender(name: string): Contender {
  if (name === 'map') return rawMap()
  if (name === 'map-async') return asyncMap()
  if (name === 'map-result') return resultMap()
  if (name === 'flexible') return flexibleMemory()
  if (name === 'fixed-sync') return cellarSync(store, 'fixed-window', name, build)
  const algorithm = ALGORITHMS[name as Short]
  if (algorithm === undefined) throw new Error(`unknown contender ${name}`)
  return cellar(store, algorithm, name, [], build)
}

function loop(c: Contender, n: number): void {
  for (let i = 0; i < n; i++) c.consume(keys[((i % 1024) * 7919) % 1024] as string)
}

if (which.startsWith('loop-')) {
  const name = which.slice('loop-'.length)
  const c = name === 'map' ? rawMap() : cellarSync(store, ALGORITHMS[name as Short], name, build)
  loop(c, warm)
  loop(c, ops)
} else {
  const c = contender(which)
  await rounds(c, warm)
  await rounds(c, ops)
}
await store.close()
