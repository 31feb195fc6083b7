// Section 3: L1 hits of one hot key in two-tier setups (memory in front of Redis), measured in
// CPU time per hit (the process's user + system time, so time spent descheduled on the loaded
// machine is not counted), interleaved rounds, ratios paired round by round.
import { randomUUID } from 'node:crypto'
import { createCache } from '@cellar/cache'
import { CacheGateway } from '@cellar/core'
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

const VALUE = { id: 1, name: 'Ada Lovelace', roles: ['admin'] }
const READS = 50_000

// CPU nanoseconds per read over `n` sequential awaited reads of one hot key.
async function perHit(read: () => unknown, n: number): Promise<number> {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) await read()
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1_000) / n
}

/** Runs every reader `rounds` times, interleaved, and prints ns per hit and the paired ratios. */
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
  await facade.put('hot', VALUE, '10m')
  const lru = new LRUCache<string, object>({ max: 10_000 })
  lru.set('hot', VALUE)
  const bento = new BentoCache({
    default: 'main',
    prefix: `bench-bento2-${randomUUID()}`,
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection })),
    },
  })
  await bento.set({ key: 'hot', value: VALUE, ttl: '10m' })
  const cacheable = new Cacheable({
    primary: new Keyv({ store: new CacheableMemory({ lruSize: 10_000 }) }),
    secondary: new Keyv({
      store: new KeyvRedis(redisUrl),
      namespace: `bench-cacheable-${randomUUID()}`,
    }),
  })
  await cacheable.set('hot', VALUE, '10m')
  const manager = cacheManager({
    stores: [
      new Keyv({ store: new CacheableMemory({ lruSize: 10_000 }) }),
      new Keyv({ store: new KeyvRedis(redisUrl), namespace: `bench-cm-${randomUUID()}` }),
    ],
  })
  await manager.set('hot', VALUE, 600_000)
  const readers: Array<[string, () => unknown]> = [
    ['cellar `TieredStore` through the gateway (`getValue`)', () => gateway.getValue('hot')],
    ['cellar `TieredStore` through the facade (`cache.get`)', () => facade.get('hot')],
    ['lru-cache `get` (synchronous, awaited; no decoding)', () => lru.get('hot')],
    ['BentoCache L1 memory + L2 Redis, `get`', () => bento.get({ key: 'hot' })],
    ['cacheable, memory primary + Redis secondary, `get`', () => cacheable.get('hot')],
    ['cache-manager 7, Keyv memory + Keyv Redis stores, `get`', () => manager.get('hot')],
  ]
  for (const [name, read] of readers) {
    if ((await read()) === undefined) throw new Error(`${name}: the hot key is not a hit`)
    await perHit(read, 5_000)
  }
  console.log(
    `\n## L1 hit of one hot key, CPU ns per hit (${READS.toLocaleString('en-US')} reads per round, ${rounds} interleaved rounds; load average at start ${load()})\n`,
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
  console.log(`\nload average at the end of the section: ${load()}`)
  await facade.close()
  await bus.close()
  await bento.disconnect()
  await cacheable.disconnect()
  await manager.disconnect()
}
