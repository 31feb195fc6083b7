// Server instructions per consume of the Redis contenders (load-independent): one private
// `redis-server` under `valgrind --tool=callgrind` per contender, the harness of bench.ts (64
// callers over 1,024 keys) for a warm-up, then the counters zeroed (`callgrind_control -z`), the
// measured consumes, and a dump (`-d`): its total over the consumes. An idle span of the same
// length is measured first and taken off (the server's timer work while callgrind slows it).
//   tsx src/redis-server-cost.ts raw fixed sliding bucket flexible before:sliding lua:<file> ...
//   (CALLGRIND_WARM, CALLGRIND_OPS; CALLGRIND_KEEP=1 keeps the dumps for callgrind_annotate;
//   before:<contender> runs the build in BENCH_BEFORE)
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { RedisStore } from '@cellar/redis'
import { freePort, pingRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import {
  type Contender,
  cellar,
  flexibleRedis,
  LIMIT,
  type LimiterClass,
  rawLua,
  WINDOW_MS,
} from './contenders.js'
import { ALGORITHMS, rounds } from './cost-harness.js'

const run = promisify(execFile)
const WARM = Number(process.env.CALLGRIND_WARM ?? 3_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 5_000)
const _keys = Array.from({ length: 1024 }, (_, i) => `user:${i}`)
const beforeDir = process.env.BENCH_BEFORE

async function contender(spec: string, url: string, client: Redis) {
  if (spec === 'raw') return { c: rawLua(client), close: async () => {} }
  if (spec === 'flexible') return { c: flexibleRedis(client), close: async () => {} }
  if (spec.startsWith('lua:')) {
    // A script of one's own (a file) with the arguments of a plain consume: for variants.
    const lua = readFileSync(spec.slice('lua:'.length), 'utf8')
    const sha = (await client.script('LOAD', lua)) as string
    const c: Contender = {
      name: spec,
      consume: (key) => client.evalsha(sha, 1, `cost:${key}`, String(LIMIT), String(WINDOW_MS)),
    }
    return { c, close: async () => {} }
  }
  const old = spec.startsWith('before:')
  const name = old ? spec.slice('before:'.length) : spec
  const algorithm = ALGORITHMS[name as keyof typeof ALGORITHMS]
  if (algorithm === undefined) throw new Error(`unknown contender ${spec}`)
  if (old && beforeDir === undefined) throw new Error('before:<contender> needs BENCH_BEFORE')
  const load = (pkg: string) => import(`${beforeDir}/node_modules/@cellar/${pkg}/dist/index.js`)
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

// The total of the newest dump in `dir` (callgrind's `totals:` line).
function lastTotal(dir: string): number {
  const dumps = readdirSync(dir)
    .filter((f) => /\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  const text = readFileSync(join(dir, dumps.at(-1) as string), 'utf8')
  const match = /^(?:totals|summary): (\d+)/m.exec(text)
  if (match === null) throw new Error(`no total in ${dumps.at(-1)}`)
  return Number(match[1])
}

async function measure(spec: string): Promise<{ perOp: number; idle: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-cost-'))
  const port = await freePort()
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${dir}/cg.out`,
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      // The server's timer at its slowest, so little of the total is its own housekeeping.
      '--hz',
      '1',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  )
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; !(await pingRedis(url)); i++) {
    if (i > 150) throw new Error('redis-server under callgrind did not start')
    await sleep(200)
  }
  const client = new Redis(url)
  const pid = String(server.pid)
  const { c, close } = await contender(spec, url, client)
  try {
    await rounds(c, WARM)
    const started = Date.now()
    await run('callgrind_control', ['-z', pid])
    await rounds(c, OPS)
    const spent = Date.now() - started
    await run('callgrind_control', ['-d', pid])
    const busy = lastTotal(dir)
    // The same span with nothing sent: the server's own timers and the control calls.
    await run('callgrind_control', ['-z', pid])
    await sleep(spent)
    await run('callgrind_control', ['-d', pid])
    const idle = lastTotal(dir)
    return { perOp: (busy - idle) / OPS, idle: idle / OPS }
  } finally {
    await close()
    client.disconnect()
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    if (process.env.CALLGRIND_KEEP) console.log(`dumps kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`warm-up ${WARM}, measured ${OPS}; load ${loadavg()[0]?.toFixed(2)}`)
console.log('| contender | server instructions per consume | idle share per op |')
console.log('| --- | ---: | ---: |')
for (const spec of process.argv.slice(2)) {
  const { perOp, idle } = await measure(spec)
  console.log(`| ${spec} | ${Math.round(perOp)} | ${Math.round(idle)} |`)
}
