import { loadavg } from 'node:os'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { findRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import {
  type Contender,
  cellar,
  flexibleMemory,
  flexibleRedis,
  rawLua,
  rawMap,
} from './contenders.js'

const CONCURRENCY = 64
const KEYS = 1024
const OPS = Number(process.env.BENCH_OPS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)

/** Ops per second of `OPS` consumes by 64 concurrent callers over 1,024 keys. */
async function round(contender: Contender): Promise<number> {
  let next = 0
  const worker = async () => {
    while (next < OPS) {
      const i = next++
      await contender.consume(keys[(i * 7919) % KEYS] as string)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return OPS / ((performance.now() - start) / 1000)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

// Contenders take turns, round after round, in a rotating order, so a change of load on the
// machine falls on all of them alike; the median of each contender's rounds is reported.
async function compare(title: string, baseline: Contender, others: Contender[]): Promise<void> {
  const all = [baseline, ...others]
  for (const contender of all) await round(contender) // warm-up: scripts cached, JIT warm
  const rates = new Map<string, number[]>(all.map((c) => [c.name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < all.length; i++) {
      const contender = all[(i + r) % all.length] as Contender
      rates.get(contender.name)?.push(await round(contender))
    }
  }
  const base = median(rates.get(baseline.name) as number[])
  console.log(`\n### ${title}\n`)
  console.log('| contender | ops/s (median) | × baseline |')
  console.log('| --- | ---: | ---: |')
  for (const contender of all) {
    const rate = median(rates.get(contender.name) as number[])
    console.log(`| ${contender.name} | ${Math.round(rate)} | ${(rate / base).toFixed(2)} |`)
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
console.log(
  `Node ${process.version}, c=${CONCURRENCY}, ${KEYS} keys, ${OPS} ops × ${ROUNDS} rounds`,
)
console.log(`load average at start: ${load()}`)

const memory = new MemoryStore()
await compare('memory', rawMap(), [
  cellar(memory, 'fixed-window', 'fixed'),
  cellar(memory, 'sliding-window', 'sliding'),
  cellar(memory, 'token-bucket', 'bucket'),
  flexibleMemory(),
])
await memory.close()

const server = await findRedis()
if (server === undefined) {
  console.log('\nRedis not found: skipped')
} else {
  const client = new Redis(server.url)
  const store = new RedisStore({ connection: server.url, prefix: 'bench:cellar:' })
  await compare('Redis', rawLua(client), [
    cellar(store, 'fixed-window', 'fixed'),
    cellar(store, 'sliding-window', 'sliding'),
    cellar(store, 'token-bucket', 'bucket'),
    flexibleRedis(client),
  ])
  await store.close()
  client.disconnect()
  if (server.source === 'spawned') await server.stop()
}
console.log(`\nload average at end: ${load()}`)
