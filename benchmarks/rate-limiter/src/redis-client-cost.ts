// Client instructions per consume of the Redis contenders (load-independent): this process's
// share, the other side of `redis-server-cost.ts`. A private redis-server (not under valgrind)
// serves; each contender runs in `node` under `valgrind --tool=callgrind` twice, with the same
// warm-up and N then 3N measured consumes (64 callers over 1,024 keys, as in bench.ts); the
// difference of the two totals over 2N is its count (start-up, tsx and warm-up cancel out).
//   tsx src/redis-client-cost.ts raw fixed sliding bucket flexible before:sliding ...
//   (CALLGRIND_WARM, CALLGRIND_OPS; before:<contender> runs the build in BENCH_BEFORE)
import { execFile } from 'node:child_process'
import { loadavg } from 'node:os'
import { promisify } from 'node:util'
import { RedisStore } from '@cellar/redis'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { type Contender, cellar, flexibleRedis, type LimiterClass, rawLua } from './contenders.js'

const run = promisify(execFile)
const WARM = Number(process.env.CALLGRIND_WARM ?? 5_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 5_000)
const here = new URL('.', import.meta.url).pathname
const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}`)
const algorithms = { fixed: 'fixed-window', sliding: 'sliding-window', bucket: 'token-bucket' }
// Node's own randomness and background threads pinned, so two runs take the same path.
const NODE_FLAGS = ['--single-threaded', '--predictable', '--hash-seed=1', '--random-seed=1']

async function contender(spec: string, url: string, client: Redis) {
  if (spec === 'raw') return { c: rawLua(client), close: async () => {} }
  if (spec === 'flexible') return { c: flexibleRedis(client), close: async () => {} }
  const old = spec.startsWith('before:')
  const name = old ? spec.slice('before:'.length) : spec
  const algorithm = algorithms[name as keyof typeof algorithms]
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

async function rounds(c: Contender, n: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      await c.consume(keys[((i % 1024) * 7919) % 1024] as string)
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
}

async function total(spec: string, url: string, ops: number): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      ...NODE_FLAGS,
      '--import',
      'tsx',
      `${here}redis-client-cost.ts`,
      '--child',
      spec,
      url,
      String(ops),
    ],
    { maxBuffer: 1 << 24, env: process.env },
  )
  const match = /Collected : (\d+)/.exec(stderr)
  if (match === null) throw new Error(`no callgrind total for ${spec}:\n${stderr.slice(-2000)}`)
  return Number(match[1])
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
    const short = await total(spec, server.url, OPS)
    const long = await total(spec, server.url, 3 * OPS)
    console.log(`| ${spec} | ${Math.round((long - short) / (2 * OPS))} |`)
  }
  await server.stop()
}
