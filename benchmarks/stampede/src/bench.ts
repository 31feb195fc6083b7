// The stampede benchmark: see ../README.md (docs/stampede.md and docs/tiers.md carry the tables).
import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createCache } from '@cellar/cache'
import { CacheGateway } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { TieredStore } from '@cellar/tiered'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { Cacheable } from 'cacheable'
import { LRUCache } from 'lru-cache'

const CALLERS = 500
const LOADER_MS = 20
const ROUNDS = 5
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!

type Remember = (key: string, loader: () => Promise<string>) => Promise<string>

async function stampede(remember: Remember): Promise<{ loads: number; ms: number }> {
  let loads = 0
  const key = `cold-${randomUUID()}`
  const loader = async () => {
    loads++
    await sleep(LOADER_MS)
    return 'value'
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CALLERS }, () => remember(key, loader)))
  return { loads, ms: performance.now() - start }
}

// A forked child of the 4-process variant: 100 callers with the cross-process lock.
async function child(url: string, prefix: string, key: string): Promise<void> {
  const cache = createCache({
    default: 'r',
    stores: { r: new RedisStore({ connection: url, prefix }) },
  })
  await cache.get('warm-up')
  let loads = 0
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve())
    process.send!('ready')
  })
  await Promise.all(
    Array.from({ length: 100 }, () =>
      cache.remember(
        key,
        '1m',
        async () => {
          loads++
          await sleep(LOADER_MS)
          return 'value'
        },
        { lock: { ttl: '5s', retryInterval: 5 } },
      ),
    ),
  )
  process.send!({ loads })
  await cache.close()
  process.disconnect()
}

async function processes(url: string): Promise<{ loads: number; ms: number }> {
  const prefix = `bench-procs-${randomUUID()}:`
  const key = 'hot'
  const self = fileURLToPath(import.meta.url)
  const children = Array.from({ length: 4 }, () =>
    fork(self, ['child', url, prefix, key], { execArgv: ['--import', 'tsx'] }),
  )
  const ready = children.map(
    (c) => new Promise<void>((resolve) => c.once('message', () => resolve())),
  )
  await Promise.all(ready)
  const done = children.map(
    (c) =>
      new Promise<number>((resolve) =>
        c.once('message', (m) => resolve((m as { loads: number }).loads)),
      ),
  )
  const start = performance.now()
  for (const c of children) c.send('go')
  const loads = (await Promise.all(done)).reduce((a, b) => a + b, 0)
  return { loads, ms: performance.now() - start }
}

// Nanoseconds per hit over `n` reads of one hot key.
async function hits(read: () => unknown, n: number): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await read()
  return Number(process.hrtime.bigint() - start) / n
}

async function main(): Promise<void> {
  const redis = await useRedis()
  if (!redis) throw new Error('the stampede benchmark needs Redis')
  const url = new URL(redis.url)
  const host = url.hostname
  const port = Number(url.port || 6379)
  console.log(
    `# stampede benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )

  // 1. One cold key, 500 callers, a 20 ms loader.
  const memory = createCache({ default: 'm', stores: { m: new MemoryStore() } })
  const onRedis = createCache({
    default: 'r',
    stores: { r: new RedisStore({ connection: redis.url, prefix: `bench-${randomUUID()}:` }) },
  })
  const bentoMemory = new BentoCache({
    default: 'main',
    stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })) },
  })
  const bentoRedis = new BentoCache({
    default: 'main',
    prefix: `bench-bento-${randomUUID()}`,
    stores: { main: bentostore().useL2Layer(redisDriver({ connection: { host, port } })) },
  })
  const contenders: Array<[string, Remember]> = [
    ['cellar memory (remember)', (k, l) => memory.remember(k, '1m', l)],
    ['cellar Redis (remember)', (k, l) => onRedis.remember(k, '1m', l)],
    ['cellar Redis (remember, lock: true)', (k, l) => onRedis.remember(k, '1m', l, { lock: true })],
    [
      'BentoCache memory (getOrSet)',
      (k, l) => bentoMemory.getOrSet({ key: k, factory: l, ttl: '1m' }),
    ],
    [
      'BentoCache Redis L2 only (getOrSet)',
      (k, l) => bentoRedis.getOrSet({ key: k, factory: l, ttl: '1m' }),
    ],
  ]
  const results = new Map<string, Array<{ loads: number; ms: number }>>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, remember] of contenders) {
      const list = results.get(name) ?? []
      list.push(await stampede(remember))
      results.set(name, list)
    }
  }
  console.log('\n| contender | loader calls (per round) | time to serve all, median ms (min–max) |')
  console.log('| --- | --- | --- |')
  for (const [name, list] of results) {
    const ms = list.map((r) => r.ms)
    console.log(
      `| ${name} | ${[...new Set(list.map((r) => r.loads))].join(', ')} | ${median(ms).toFixed(1)} (${Math.min(...ms).toFixed(1)}–${Math.max(...ms).toFixed(1)}) |`,
    )
  }

  // 2. 4 processes × 100 callers, lock: true on Redis.
  const procs: Array<{ loads: number; ms: number }> = []
  for (let round = 0; round < 3; round++) procs.push(await processes(redis.url))
  console.log(
    `\n4 processes × 100 callers (lock: true, Redis): loader calls in total per round ${procs.map((p) => p.loads).join(', ')}; time from "go" to all served, median ${median(procs.map((p) => p.ms)).toFixed(1)} ms`,
  )

  // 3. L1 hits: the tiered store (through the facade and through the gateway) vs the peers.
  const bus = new RedisBus({ connection: redis.url })
  const tiered = new TieredStore({
    l1: new MemoryStore(),
    l2: new RedisStore({ connection: redis.url, prefix: `bench-tiered-${randomUUID()}:` }),
    bus,
    channel: `bench-${randomUUID()}`,
  })
  const tieredCache = createCache({ default: 't', stores: { t: tiered } })
  const gateway = new CacheGateway(tiered)
  await tieredCache.put('hot', { id: 1, name: 'Ada' }, '10m')
  const lru = new LRUCache<string, object>({ max: 10_000 })
  lru.set('hot', { id: 1, name: 'Ada' })
  const bentoTwo = new BentoCache({
    default: 'main',
    prefix: `bench-bento2-${randomUUID()}`,
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: { host, port } })),
    },
  })
  await bentoTwo.set({ key: 'hot', value: { id: 1, name: 'Ada' }, ttl: '10m' })
  const cacheable = new Cacheable()
  await cacheable.set('hot', { id: 1, name: 'Ada' })
  const readers: Array<[string, () => unknown]> = [
    ['cellar tiered, facade get (L1 hit)', () => tieredCache.get('hot')],
    ['cellar tiered, gateway getValue (L1 hit)', () => gateway.getValue('hot')],
    ['lru-cache get (sync, awaited)', () => lru.get('hot')],
    ['BentoCache L1+L2 get (L1 hit)', () => bentoTwo.get({ key: 'hot' })],
    ['cacheable get (memory primary)', () => cacheable.get('hot')],
  ]
  const perHit = new Map<string, number[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, read] of readers) {
      const list = perHit.get(name) ?? []
      list.push(await hits(read, 50_000))
      perHit.set(name, list)
    }
  }
  console.log('\n| L1 hit | ns per hit, median (min–max) |')
  console.log('| --- | --- |')
  for (const [name, list] of perHit) {
    console.log(
      `| ${name} | ${median(list).toFixed(0)} (${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)}) |`,
    )
  }

  // 4. Invalidation latency: a write on instance A until B's bus has dropped the key from its L1.
  const channel = `bench-inv-${randomUUID()}`
  const prefix = `bench-inv-${randomUUID()}:`
  const busA = new RedisBus({ connection: redis.url })
  const busB = new RedisBus({ connection: redis.url })
  const a = new TieredStore({
    l1: new MemoryStore(),
    l2: new RedisStore({ connection: redis.url, prefix }),
    bus: busA,
    channel,
  })
  const b = new TieredStore({
    l1: new MemoryStore(),
    l2: new RedisStore({ connection: redis.url, prefix }),
    bus: busB,
    channel,
  })
  await Promise.all([a.ready(), b.ready()])
  let wake: (() => void) | undefined
  await busB.subscribe(channel, () => wake?.())
  const latencies: number[] = []
  for (let i = 0; i < 1_000; i++) {
    const seen = new Promise<void>((resolve) => {
      wake = resolve
    })
    const start = performance.now()
    await a.set('k', new TextEncoder().encode(`v${i}`), '1m')
    await seen
    latencies.push(performance.now() - start)
  }
  console.log(
    `\nInvalidation (write on A → dropped from B's L1, two instances with their own connections, one process): p50 ${quantile(latencies, 0.5).toFixed(3)} ms, p99 ${quantile(latencies, 0.99).toFixed(3)} ms over ${latencies.length} writes`,
  )
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )

  await Promise.all([memory.close(), onRedis.close(), tieredCache.close(), a.close(), b.close()])
  await Promise.all([bus.close(), busA.close(), busB.close()])
  await Promise.all([bentoMemory.disconnect(), bentoRedis.disconnect(), bentoTwo.disconnect()])
  await cacheable.disconnect?.()
  process.exit(0)
}

if (process.argv[2] === 'child') {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!)
} else {
  await main()
}
