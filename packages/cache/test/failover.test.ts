import { randomUUID } from 'node:crypto'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { canStartRedis, startRedis } from '@cellar/test-servers'
import { describe, expect, test } from 'vitest'
import { type CacheEvents, createCache, failover } from '../src/index.js'

describe.skipIf(!canStartRedis())('failover with a real Redis that stops mid-run', () => {
  test('calls move to the next store when Redis goes away, and back once it returns', async () => {
    const server = await startRedis()
    const redis = new RedisStore({
      connection: server.url,
      prefix: `failover-${randomUUID()}:`,
      offlineQueue: false,
      commandTimeout: 500,
      maxRetriesPerRequest: 0,
    })
    const memory = new MemoryStore()
    await using cache = createCache({
      default: 'main',
      stores: { redis, memory, main: failover(['redis', 'memory'], { retryAfter: 300 }) },
    })
    const moves: Array<CacheEvents['failedOver']> = []
    cache.on('failedOver', (event) => moves.push(event))

    await cache.put('k', 'in redis')
    expect(await cache.store('redis').get('k')).toBe('in redis')

    await server.stop()
    await cache.put('k', 'in memory')
    expect(await cache.get('k')).toBe('in memory')
    expect(await cache.store('memory').get('k')).toBe('in memory')
    expect(moves).toHaveLength(1)
    expect(moves[0]).toMatchObject({ store: 'main', from: 'redis', to: 'memory' })
    expect(moves[0]!.error.code).toBe('E_BACKEND_UNAVAILABLE')

    await server.start()
    // Past retryAfter, Redis is tried first again; its client reconnects on its own.
    await expect
      .poll(
        async () => {
          await cache.put('back', 'in redis again')
          return cache
            .store('redis')
            .get('back')
            .catch(() => undefined)
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe('in redis again')
    await server.stop()
  })
})
