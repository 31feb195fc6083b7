// Section 1: one cold key, 500 concurrent callers, a 20 ms loader, in one process.
import { randomUUID } from 'node:crypto'
import { createCache } from '@cellar/cache'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { CALLERS, fmt, LOADER_MS, load, median, sleep } from './common.js'

type Remember = (key: string, loader: () => Promise<string>) => Promise<string>

interface Round {
  readonly loads: number
  /** From the first call to the last caller served. */
  readonly ms: number
  /** The loader's own time in this round (its sleep, as late as the loaded machine makes it). */
  readonly loaderMs: number
}

async function round(remember: Remember): Promise<Round> {
  let loads = 0
  let loaderMs = 0
  const key = `cold-${randomUUID()}`
  const loader = async () => {
    loads++
    const start = performance.now()
    await sleep(LOADER_MS)
    loaderMs = performance.now() - start
    return 'value'
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CALLERS }, () => remember(key, loader)))
  return { loads, ms: performance.now() - start, loaderMs }
}

/** Runs every contender `rounds` times, interleaved, and prints the table. */
export async function stampedeSection(redisUrl: string, rounds: number): Promise<void> {
  const url = new URL(redisUrl)
  const connection = { host: url.hostname, port: Number(url.port || 6379) }
  const memory = createCache({ default: 'm', stores: { m: new MemoryStore() } })
  const onRedis = createCache({
    default: 'r',
    stores: { r: new RedisStore({ connection: redisUrl, prefix: `bench-${randomUUID()}:` }) },
  })
  const bentoMemory = new BentoCache({
    default: 'main',
    stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })) },
  })
  const bentoRedis = new BentoCache({
    default: 'main',
    prefix: `bench-bento-${randomUUID()}`,
    stores: { main: bentostore().useL2Layer(redisDriver({ connection })) },
  })
  const before = await beforeBuild(redisUrl)
  const contenders: Array<[string, Remember]> = [
    ['cellar memory (`remember`)', (k, l) => memory.remember(k, '1m', l)],
    ['cellar Redis (`remember`)', (k, l) => onRedis.remember(k, '1m', l)],
    [
      'cellar Redis (`remember`, `lock: true`)',
      (k, l) => onRedis.remember(k, '1m', l, { lock: true }),
    ],
    [
      'BentoCache memory (`getOrSet`)',
      (k, l) => bentoMemory.getOrSet({ key: k, factory: l, ttl: '1m' }),
    ],
    [
      'BentoCache, Redis L2 only (`getOrSet`)',
      (k, l) => bentoRedis.getOrSet({ key: k, factory: l, ttl: '1m' }),
    ],
    ...before.contenders,
  ]
  // Warm-up: connections, scripts (EVALSHA), JIT; not reported.
  for (const [, remember] of contenders) await round(remember)
  console.log(
    `\n## Stampede: ${CALLERS} callers, one cold key, a ${LOADER_MS} ms loader (${rounds} interleaved rounds; load average at start ${load()})\n`,
  )
  const results = new Map<string, Round[]>()
  for (let r = 0; r < rounds; r++) {
    // Each round starts with the next contender, so none always follows the same one.
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!)
    for (const [name, remember] of order) {
      const list = results.get(name) ?? []
      list.push(await round(remember))
      results.set(name, list)
    }
  }
  console.log(
    "| contender | loader calls per round | time to serve all, median ms (min–max) | loader's own time, median ms | serve all ÷ loader's own time, paired median (max) |",
  )
  console.log('| --- | --- | --- | --- | --- |')
  for (const [name, list] of results) {
    const ms = list.map((r) => r.ms)
    const ratios = list.map((r) => r.ms / r.loaderMs)
    console.log(
      `| ${name} | ${[...new Set(list.map((r) => r.loads))].join(', ')} | ${fmt(median(ms), 1)} (${fmt(Math.min(...ms), 1)}–${fmt(Math.max(...ms), 1)}) | ${fmt(median(list.map((r) => r.loaderMs)), 1)} | ${fmt(median(ratios), 2)}× (${fmt(Math.max(...ratios), 2)}×) |`,
    )
  }
  console.log(`\nload average at the end of the section: ${load()}`)
  await Promise.all([memory.close(), onRedis.close(), before.close()])
  await Promise.all([bentoMemory.disconnect(), bentoRedis.disconnect()])
}

/**
 * The same cellar contenders on another build (`BENCH_BEFORE`: the root of a built checkout),
 * interleaved with this one's in the same rounds; none without it.
 */
async function beforeBuild(redisUrl: string) {
  const root = process.env.BENCH_BEFORE
  if (root === undefined) return { contenders: [], close: async () => {} }
  const cache = (await import(
    `${root}/packages/cache/dist/index.js`
  )) as typeof import('@cellar/cache')
  const redis = (await import(
    `${root}/packages/redis/dist/index.js`
  )) as typeof import('@cellar/redis')
  const onRedis = cache.createCache({
    default: 'r',
    stores: {
      r: new redis.RedisStore({ connection: redisUrl, prefix: `bench-before-${randomUUID()}:` }),
    },
  })
  const contenders: Array<[string, Remember]> = [
    ['before: cellar Redis (`remember`)', (k, l) => onRedis.remember(k, '1m', l)],
    [
      'before: cellar Redis (`remember`, `lock: true`)',
      (k, l) => onRedis.remember(k, '1m', l, { lock: true }),
    ],
  ]
  return { contenders, close: () => onRedis.close() }
}
