import { CacheGateway, NullStore } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { canStartRedis, startRedis, uniquePrefix, useRedis } from '@cellar/test-servers'
import { afterAll, describe, expect, test } from 'vitest'
import {
  counterKey,
  GenerationalResolver,
  type GenerationalResolverOptions,
  NO_TAGS_FINGERPRINT,
} from '../src/index.js'
import { countStoreCalls } from './helpers.js'

const redis = await useRedis()
const open: CacheGateway[] = []
afterAll(async () => {
  await Promise.all(open.map((gateway) => gateway.close()))
})

function gateway(kind: 'redis' | 'memory', options: { defaultTtl?: number } = {}): CacheGateway {
  const store =
    kind === 'redis'
      ? new RedisStore({ connection: redis!.url, prefix: uniquePrefix('generational'), ...options })
      : new MemoryStore(options)
  const created = new CacheGateway(store)
  open.push(created)
  return created
}

const kinds = [
  { kind: 'redis' as const, options: {} as GenerationalResolverOptions, skip: !redis },
  { kind: 'memory' as const, options: { allowEvictingStore: true }, skip: false },
]

for (const { kind, options, skip } of kinds) {
  describe.skipIf(skip)(`GenerationalResolver on ${kind}`, () => {
    test('fingerprint reads every counter and the epoch in one getMany', async () => {
      const resolver = new GenerationalResolver(gateway(kind), options)
      const tags = Array.from({ length: 50 }, (_, i) => `t${i}`)
      await resolver.fingerprint(tags) // creates the epoch
      const { calls } = await countStoreCalls(() => resolver.fingerprint(tags))
      expect(calls.map((call) => call.operation)).toEqual(['getMany'])
      expect(calls[0]!.keys).toHaveLength(51)
    })

    test('above batchSize the counters are read in batches and give the same fingerprint', async () => {
      const counters = gateway(kind)
      const whole = new GenerationalResolver(counters, options)
      const batched = new GenerationalResolver(counters, { ...options, batchSize: 4 })
      const tags = Array.from({ length: 10 }, (_, i) => `b${i}`)
      await whole.bump(['b3', 'b7'])
      const expected = await whole.fingerprint(tags)
      const { result, calls } = await countStoreCalls(() => batched.fingerprint(tags))
      expect(result).toBe(expected)
      expect(calls.map((call) => call.operation)).toEqual(['getMany', 'getMany', 'getMany'])
    })

    test('a missing counter counts as 0; tag order matters; the hash is short and stable', async () => {
      const counters = gateway(kind)
      const resolver = new GenerationalResolver(counters, options)
      const before = await resolver.fingerprint(['a', 'b'])
      await counters.setValue(counterKey('a'), 0, null)
      expect(await resolver.fingerprint(['a', 'b'])).toBe(before)
      expect(await resolver.fingerprint(['b', 'a'])).not.toBe(before)
      expect(before).toMatch(/^[A-Za-z0-9_-]{16}$/)
    })

    test('no tags gives a constant without touching the store', async () => {
      const resolver = new GenerationalResolver(gateway(kind), options)
      const { result, calls } = await countStoreCalls(() => resolver.fingerprint([]))
      expect(result).toBe(NO_TAGS_FINGERPRINT)
      expect(calls).toEqual([])
    })

    test('bump increments each distinct tag once, with no TTL even under a default TTL', async () => {
      const counters = gateway(kind, { defaultTtl: 60_000 })
      const resolver = new GenerationalResolver(counters, options)
      const before = await resolver.fingerprint(['x', 'y'])
      await resolver.bump(['x', 'x', 'y', 'x'])
      expect(await counters.getValue(counterKey('x'))).toBe(1)
      expect(await counters.getValue(counterKey('y'))).toBe(1)
      expect(await counters.ttl(counterKey('x'))).toBeNull()
      expect(await resolver.fingerprint(['x', 'y'])).not.toBe(before)
      expect(await resolver.fingerprint(['z'])).toBe(await resolver.fingerprint(['z']))
    })

    test('fingerprintMany equals fingerprint per group', async () => {
      const resolver = new GenerationalResolver(gateway(kind), options)
      await resolver.bump(['p', 'q'])
      await resolver.fingerprint(['p']) // the epoch exists from the first read on
      const groups = [['p'], ['q', 'p'], [], ['r', 'q']]
      const { result, calls } = await countStoreCalls(() => resolver.fingerprintMany(groups))
      expect(calls).toHaveLength(1)
      expect(result).toEqual(await Promise.all(groups.map((g) => resolver.fingerprint(g))))
    })

    test('a reset of the counter store changes every fingerprint instead of repeating one', async () => {
      const counters = gateway(kind)
      const resolver = new GenerationalResolver(counters, options)
      const seen = new Set<string>()
      for (let round = 0; round < 3; round++) {
        seen.add(await resolver.fingerprint(['k']))
        await resolver.bump(['k'])
      }
      seen.add(await resolver.fingerprint(['k']))
      await counters.clear() // a flush, a restart without persistence, or every key evicted
      const after = await resolver.fingerprint(['k'])
      expect(seen.has(after)).toBe(false)
      expect(await resolver.fingerprint(['never-bumped'])).not.toBe(after)
    })
  })
}

describe('GenerationalResolver eviction safety', () => {
  test('refuses a store that may evict unless the caller opts in', () => {
    const counters = new CacheGateway(new MemoryStore())
    expect(() => new GenerationalResolver(counters)).toThrow(
      expect.objectContaining({ code: 'E_EVICTING_COUNTER_STORE' }),
    )
    expect(() => new GenerationalResolver(counters, { allowEvictingStore: true })).not.toThrow()
  })

  test.skipIf(!redis)('refuses a Redis store declared evicting', async () => {
    const store = new RedisStore({
      connection: redis!.url,
      prefix: uniquePrefix('g'),
      evicts: true,
    })
    const counters = new CacheGateway(store)
    open.push(counters)
    expect(() => new GenerationalResolver(counters)).toThrow(
      expect.objectContaining({ code: 'E_EVICTING_COUNTER_STORE' }),
    )
  })

  test.skipIf(!canStartRedis())(
    'reads the server: a Redis declared non-evicting whose maxmemory-policy evicts is refused on first use',
    async () => {
      // A private server: CONFIG SET on the shared one would change every other test's Redis.
      const server = await startRedis({ args: ['--maxmemory', '64mb'] })
      const store = new RedisStore({ connection: server.url, prefix: uniquePrefix('g') })
      const counters = new CacheGateway(store)
      try {
        const resolver = new GenerationalResolver(counters) // the declaration says no eviction
        const opted = new GenerationalResolver(counters, { allowEvictingStore: true })
        // noeviction (the server default): accepted, and nothing is refused.
        await resolver.bump(['t'])
        expect(await resolver.fingerprint(['t'])).toMatch(/\S/)
        const evicting = new GenerationalResolver(counters)
        await setPolicy(server.url, 'allkeys-lru')
        for (const call of [
          () => evicting.fingerprint(['t']),
          () => evicting.fingerprintMany([['t'], ['u']]),
          () => evicting.bump(['t']),
        ]) {
          await expect(call()).rejects.toMatchObject({ code: 'E_EVICTING_COUNTER_STORE' })
        }
        expect(await counters.getValue(counterKey('t'))).toBe(1) // the refused bump wrote nothing
        // Opted in: accepted, and run as on an evicting store (a created counter moves the epoch).
        const before = await opted.fingerprint(['t', 'fresh'])
        await opted.bump(['fresh'])
        expect(await opted.fingerprint(['t', 'fresh'])).not.toBe(before)
        // Back to noeviction: the next call asks again and goes through.
        await setPolicy(server.url, 'noeviction')
        await expect(evicting.bump(['t'])).resolves.toBeUndefined()
      } finally {
        await counters.close()
        await server.stop()
      }
    },
  )

  test('refuses a store without atomic counters', () => {
    expect(() => new GenerationalResolver(new CacheGateway(new NullStore()))).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED' }),
    )
  })

  test('on an evicting store, one evicted counter never brings back an old fingerprint', async () => {
    const counters = new CacheGateway(new MemoryStore())
    const resolver = new GenerationalResolver(counters, { allowEvictingStore: true })
    const seen = new Set<string>()
    for (let round = 0; round < 3; round++) {
      seen.add(await resolver.fingerprint(['e', 'other']))
      await resolver.bump(['e'])
    }
    seen.add(await resolver.fingerprint(['e', 'other']))
    expect(seen.size).toBe(4)
    await counters.delete(counterKey('e')) // evicted alone; the epoch stays
    const afterEviction = await resolver.fingerprint(['e', 'other'])
    expect(seen.has(afterEviction)).toBe(false)
    seen.add(afterEviction)
    await resolver.bump(['e']) // recreated at 1
    expect(seen.has(await resolver.fingerprint(['e', 'other']))).toBe(false)
  })
})

async function setPolicy(url: string, policy: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url)
  try {
    await client.config('SET', 'maxmemory-policy', policy)
  } finally {
    client.disconnect()
  }
}
