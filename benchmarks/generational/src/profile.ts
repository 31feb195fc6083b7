// Where the time of a cached list-page hit goes: list hits under the V8 CPU profiler (the one
// `node --cpu-prof` drives, started through `node:inspector` around the measured loop only, so
// seeding and startup stay out), self time summed by where the code lives.
// Usage: [BENCH_BEFORE=/path/to/dist/index.js] pnpm profile [memory|redis] [hits] — with
// BENCH_BEFORE, that build's CachedRepository is the one profiled; PROFILE_OUT=<file> keeps the
// profile (open it in Chrome DevTools).
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { load } from './paired.js'
import { loadBefore, memorySqlite, type Pair, redisPostgres } from './setup.js'

const kind = process.argv[2] ?? 'memory'
const HITS = Number(process.argv[3] ?? 20_000)

const before = await loadBefore()
const pair = (kind === 'redis' ? await redisPostgres(before) : await memorySqlite(before)) as Pair
const cached = pair.before ?? pair.cached
const page = (i: number) => ({ page: 1 + (i % 5), limit: 20 })
const filters = (i: number) => ({ category_id: 1 + (i % 4) })
let misses = 0
cached.on((event) => {
  if (event.type === 'miss') misses++
})
for (let i = 0; i < 2_000; i++) await cached.list(page(i), filters(i)) // warm: JIT and cache
misses = 0
console.log(`load average at start ${load()}`)
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
await session.post('Profiler.start')
const started = performance.now()
for (let i = 0; i < HITS; i++) await cached.list(page(i), filters(i))
const took = performance.now() - started
const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
session.disconnect()
if (process.env.PROFILE_OUT !== undefined)
  writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile))
await pair.close()
console.log(
  `${pair.label}${before ? ' (BENCH_BEFORE)' : ''}: ${HITS} list hits, ${((took * 1000) / HITS).toFixed(1)} µs each (wall, profiler on), ${misses} misses`,
)

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

function where(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  const generational =
    url.includes('/packages/generational/') ||
    url.includes('/@cellar/generational/') ||
    (process.env.BENCH_BEFORE !== undefined && url.endsWith(process.env.BENCH_BEFORE))
  if (generational) {
    return `generational: ${functionName || '(anonymous)'}`
  }
  if (url.includes('/packages/core/') || url.includes('/@cellar/core/')) {
    return `core: ${functionName || '(anonymous)'}`
  }
  if (url.includes('/packages/memory/') || url.includes('/lru-cache/'))
    return 'memory store + lru-cache'
  if (
    url.includes('/packages/redis/') ||
    url.includes('/ioredis/') ||
    url.includes('redis-parser')
  ) {
    return 'redis store + ioredis'
  }
  if (url.includes('/msgpackr/')) return 'msgpackr (decode)'
  if (url.includes('/knex/') || url.includes('better-sqlite3') || url.includes('/pg'))
    return 'knex / driver'
  if (url.includes('tsx') || url.includes('esbuild')) return 'startup (tsx)'
  if (functionName === 'dispatch' || url.startsWith('node:inspector')) return 'the profiler itself'
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(program)' || functionName === '(idle)') return 'V8 / idle'
  if (url === '' && functionName !== '') return `native: ${functionName}`
  return 'node internals (promises, net, other)'
}

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const totals = new Map<string, number>()
profile.samples.forEach((id, i) => {
  const name = where(byId.get(id)!)
  totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const all = [...totals.values()].reduce((a, b) => a + b, 0)
for (const [name, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`  ${((us / all) * 100).toFixed(1).padStart(5)}%  ${name}`)
}
console.log(`load average at end ${load()}`)
