// Section 3: L1 hits of one hot key in two-tier setups (memory in front of Redis), measured in
// CPU time per hit (the process's user + system time, so time spent descheduled on the loaded
// machine is not counted), interleaved rounds, ratios paired round by round.
import { randomUUID } from 'node:crypto'
import { createCache } from '@cellar/cache'
import { CacheGateway, MsgpackSerializer } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'
import KeyvRedis from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { createCache as cacheManager } from 'cache-manager'
import { Cacheable, CacheableMemory } from 'cacheable'
import Keyv from 'keyv'
import { LRUCache } from 'lru-cache'
import { fmt, load, median, quantile } from './common.js'

// Two values: a tiny object, and the ~200-byte user of benchmarks/cache (its `USER`).
const VALUES = {
  tiny: { id: 1, name: 'Ada Lovelace', roles: ['admin'] },
  '~200-byte': {
    id: 48_213,
    name: 'Ada Lovelace',
    email: 'ada.lovelace@example.com',
    roles: ['admin', 'editor'],
    active: true,
    score: 98.5,
    createdAt: '2026-11-21T09:30:00.000Z',
    address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
  },
} as const
const READS = 50_000

// CPU nanoseconds per read over `n` sequential awaited reads of one hot key.
async function perHit(read: () => unknown, n: number): Promise<number> {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) await read()
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1_000) / n
}

/** Runs every reader `rounds` times, interleaved, and prints ns per hit and the paired ratios. */
async function measure(
  label: string,
  readers: Array<[string, () => unknown]>,
  rounds: number,
): Promise<void> {
  for (const [name, read] of readers) {
    if ((await read()) === undefined) throw new Error(`${name}: the hot key is not a hit`)
    await perHit(read, 5_000)
  }
  console.log(
    `\n## L1 hit of one hot key, ${label}: CPU ns per hit (${READS.toLocaleString('en-US')} reads per round, ${rounds} interleaved rounds; load average at start ${load()})\n`,
  )
  const results = new Map<string, number[]>()
  for (let r = 0; r < rounds; r++) {
    for (const [name, read] of readers) {
      const list = results.get(name) ?? []
      list.push(await perHit(read, READS))
      results.set(name, list)
    }
  }
  const viaGateway = results.get(readers[0]![0])!
  const viaFacade = results.get(readers[1]![0])!
  console.log(
    '| reader | CPU ns per hit, median (min–max) | it ÷ tiered via gateway, paired median (p25–p75) | it ÷ tiered via facade, paired median |',
  )
  console.log('| --- | --- | --- | --- |')
  for (const [name, list] of results) {
    const g = list.map((ns, i) => ns / viaGateway[i]!)
    const f = list.map((ns, i) => ns / viaFacade[i]!)
    console.log(
      `| ${name} | ${fmt(median(list))} (${fmt(Math.min(...list))}–${fmt(Math.max(...list))}) | ${fmt(median(g), 2)}× (${fmt(quantile(g, 0.25), 2)}–${fmt(quantile(g, 0.75), 2)}) | ${fmt(median(f), 2)}× |`,
    )
  }
}

/** The L1 hit of every two-tier setup, for a tiny and a ~200-byte value. */
export async function l1Section(redisUrl: string, rounds: number): Promise<void> {
  const url = new URL(redisUrl)
  const connection = { host: url.hostname, port: Number(url.port || 6379) }
  const bus = new RedisBus({ connection: redisUrl })
  const tiered = new TieredStore({
    l1: new MemoryStore(),
    l2: new RedisStore({ connection: redisUrl, prefix: `bench-tiered-${randomUUID()}:` }),
    bus,
    channel: `bench-${randomUUID()}`,
  })
  await tiered.ready()
  const facade = createCache({ default: 't', stores: { t: tiered } })
  const gateway = new CacheGateway(tiered)
  // Opt-in: frozen values, shared by the reads of unchanged bytes.
  const frozen = new CacheGateway(tiered, { serializer: new MsgpackSerializer({ frozen: true }) })
  const before = await beforeBuild(redisUrl)
  const lru = new LRUCache<string, object>({ max: 10_000 })
  const bento = new BentoCache({
    default: 'main',
    prefix: `bench-bento2-${randomUUID()}`,
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection })),
    },
  })
  const cacheable = new Cacheable({
    primary: new Keyv({ store: new CacheableMemory({ lruSize: 10_000 }) }),
    secondary: new Keyv({
      store: new KeyvRedis(redisUrl),
      namespace: `bench-cacheable-${randomUUID()}`,
    }),
  })
  const manager = cacheManager({
    stores: [
      new Keyv({ store: new CacheableMemory({ lruSize: 10_000 }) }),
      new Keyv({ store: new KeyvRedis(redisUrl), namespace: `bench-cm-${randomUUID()}` }),
    ],
  })
  for (const [size, value] of Object.entries(VALUES)) {
    // Short keys (under 13 characters: flat strings in V8), the same for every reader.
    const key = size === 'tiny' ? 'hot-tiny' : 'hot-200b'
    await facade.put(key, value, '10m')
    await before.put(key, value)
    lru.set(key, value)
    await bento.set({ key, value, ttl: '10m' })
    await cacheable.set(key, value, '10m')
    await manager.set(key, value, 600_000)
    const readers: Array<[string, () => unknown]> = [
      ['cellar `TieredStore` through the gateway (`getValue`)', () => gateway.getValue(key)],
      ['cellar `TieredStore` through the facade (`cache.get`)', () => facade.get(key)],
      [
        'cellar `TieredStore` through a gateway with `MsgpackSerializer({ frozen: true })` (shared, frozen values)',
        () => frozen.getValue(key),
      ],
      ['lru-cache `get` (synchronous, awaited; no decoding)', () => lru.get(key)],
      ['BentoCache L1 memory + L2 Redis, `get`', () => bento.get({ key })],
      ['cacheable, memory primary + Redis secondary, `get`', () => cacheable.get(key)],
      ['cache-manager 7, Keyv memory + Keyv Redis stores, `get`', () => manager.get(key)],
      ...before.readers(key),
    ]
    await measure(`${size} value`, readers, rounds)
  }
  console.log(`\nload average at the end of the section: ${load()}`)
  await facade.close()
  await before.close()
  await bus.close()
  await bento.disconnect()
  await cacheable.disconnect()
  await manager.disconnect()
}

/**
 * The tiered store of another build (`BENCH_BEFORE`: the root of a built checkout) through its
 * gateway and facade, read in the same rounds as this build's; nothing without it.
 */
async function beforeBuild(redisUrl: string) {
  const root = process.env.BENCH_BEFORE
  if (root === undefined) {
    return {
      put: async (_key: string, _value: unknown) => {},
      readers: (_key: string) => [],
      close: async () => {},
    }
  }
  const importBuild = async <T>(name: string) =>
    (await import(`${root}/packages/${name}/dist/index.js`)) as T
  const core = await importBuild<typeof import('@cellar/core')>('core')
  const memory = await importBuild<typeof import('@cellar/memory')>('memory')
  const redis = await importBuild<typeof import('@cellar/redis')>('redis')
  const tiers = await importBuild<typeof import('@cellar/tiered')>('tiered')
  const cache = await importBuild<typeof import('@cellar/cache')>('cache')
  const bus = new redis.RedisBus({ connection: redisUrl })
  const tiered = new tiers.TieredStore({
    l1: new memory.MemoryStore(),
    l2: new redis.RedisStore({ connection: redisUrl, prefix: `bench-before-${randomUUID()}:` }),
    bus,
    channel: `bench-before-${randomUUID()}`,
  })
  await tiered.ready()
  const facade = cache.createCache({ default: 't', stores: { t: tiered } })
  const gateway = new core.CacheGateway(tiered)
  return {
    put: (key: string, value: unknown) => facade.put(key, value, '10m'),
    readers: (key: string): Array<[string, () => unknown]> => [
      ['before: cellar `TieredStore` through the gateway', () => gateway.getValue(key)],
      ['before: cellar `TieredStore` through the facade', () => facade.get(key)],
    ],
    close: async () => {
      await facade.close()
      await bus.close()
    },
  }
}
