// Client instructions per consume of the Redis contenders (load-independent): this process's
// share, the other side of `redis-server-cost.ts`. A private redis-server (not under valgrind)
// serves; each contender runs in `node` under `valgrind --tool=callgrind` twice, with the same
// warm-up and N then 3N measured consumes (64 callers over 1,024 keys, as in bench.ts); the
// difference of the two totals over 2N is its count (start-up, tsx and warm-up cancel out).
//   tsx src/redis-client-cost.ts raw fixed sliding bucket flexible before:sliding ...
//   (CALLGRIND_WARM, CALLGRIND_OPS; before:<contender> runs the build in BENCH_BEFORE)
import { loadavg } from 'node:os'
import { RedisStore } from '@cellar/redis'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { cellar, flexibleRedis, type LimiterClass, rawLua } from './contenders.js'
import { ALGORITHMS, callgrindTotal, rounds } from './cost-harness.js'

const WARM = Number(process.env.CALLGRIND_WARM ?? 5_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 5_000)
const here = new URL('.', import.meta.url).pathname

async function contender(spec: string, url: string, client: Redis) {
  if (spec === 'raw') return { c: rawLua(client), close: async () => {} }
  if (spec === 'flexible') return { c: flexibleRedis(client), close: async () => {} }
  const old = spec.startsWith('before:')
  const name = old ? spec.slice('before:'.length) : spec
  const algorithm = ALGORITHMS[name as keyof typeof ALGORITHMS]
  if (algorithm === undefined) throw new Error(`unknown contender ${spec}`)
  const dir = process.env.BENCH_BEFORE
  if (old && dir === undefined) throw new Error('before:<contender> needs BENCH_BEFORE')
  const load = (pkg: string) => import(`${dir}/node_modules/@cellar/${pkg}/dist/index.js`)
  const Store = old ? ((await load('redis')).RedisStore as typeof RedisStore) : RedisStore
  const build = old
    ? { label: 'before', RateLimiter: (await load('rate-limiter')).RateLimiter as LimiterClass }
    : undefined
  const store = new Store({ connection: url, prefix: 'cost:' })
  return {
    c: cellar(store, algorithm as 'fixed-window', name, [], build),
    close: () => store.close(),
  }
}

const [first, ...rest] = process.argv.slice(2)
if (first === '--child') {
  const [spec = 'raw', url = '', ops = '0'] = rest
  const client = new Redis(url)
  const { c, close } = await contender(spec, url, client)
  await rounds(c, WARM)
  await rounds(c, Number(ops))
  await close()
  client.disconnect()
} else {
  const server = await startRedis()
  console.log(`warm-up ${WARM}, measured ${OPS} and ${3 * OPS}; load ${loadavg()[0]?.toFixed(2)}`)
  console.log('| contender | client instructions per consume |\n| --- | ---: |')
  for (const spec of [first, ...rest].filter((s) => s !== undefined)) {
    const short = await callgrindTotal(`${here}redis-client-cost.ts`, [
      '--child',
      spec,
      server.url,
      String(OPS),
    ])
    const long = await callgrindTotal(`${here}redis-client-cost.ts`, [
      '--child',
      spec,
      server.url,
      String(3 * OPS),
    ])
    console.log(`| ${spec} | ${Math.round((long - short) / (2 * OPS))} |`)
  }
  await server.stop()
}
