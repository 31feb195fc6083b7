import { fileURLToPath } from 'node:url'
import { describeLimiter } from '@cellar/conformance'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { describe, expect, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'
import { limiterOver } from './limiter.js'

const memcached = await useMemcached()
const child = fileURLToPath(new URL('./helpers/limiter-child.ts', import.meta.url))
const request = { limit: 3, windowMs: 60_000, force: false, aligned: false, blockMs: 0 }

describe.skipIf(!memcached)('MemcachedStore native limiter', () => {
  const open = (prefix = uniquePrefix('memcached-limiter')) =>
    new MemcachedStore({ servers: memcached!.servers, prefix, timeout: '5s' })

  describeLimiter(
    { describe, test },
    () => {
      const store = open()
      return { limiter: (spec) => limiterOver(store, spec), close: () => store.close() }
    },
    {
      name: 'rate limiter (native step)',
      processes: {
        module: child,
        execArgv: ['--import', 'tsx'],
        env: {
          CELLAR_MEMCACHED_SERVERS: memcached?.servers ?? '',
          CELLAR_MEMCACHED_PREFIX: uniquePrefix('memcached-limiter-fork'),
        },
      },
    },
  )

  test('declares rateLimits; the state is one item whose expiry follows the state', async () => {
    const store = open()
    expect(store.capabilities.rateLimits).toBe(true)
    const limits = store.rateLimiter()
    await limits.fixedWindow('w', { ...request, points: 1 })
    // The item carries the window's end (ttl() reads it from the flags, to a quarter second).
    const ttl = await store.ttl('w')
    expect(ttl).toBeGreaterThan(59_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    await store.close()
  })

  test('a read writes nothing; clear() of the store forgets every state', async () => {
    const store = open()
    const limits = store.rateLimiter()
    expect(await limits.tokenBucket('t', { ...request, points: 0 })).toMatchObject({
      allowed: true,
      remaining: 3,
    })
    expect(await store.has('t')).toBe(false)
    await limits.tokenBucket('t', { ...request, points: 3 })
    expect((await limits.tokenBucket('t', { ...request, points: 1 })).allowed).toBe(false)
    await store.clear()
    expect((await limits.tokenBucket('t', { ...request, points: 1 })).allowed).toBe(true)
    await limits.reset('t')
    expect(await store.has('t')).toBe(false)
    await store.close()
  })

  test('a foreign value under the key reads as no state and is replaced', async () => {
    const store = open()
    await store.set('f', new TextEncoder().encode('not a state'))
    const decision = await store.rateLimiter().slidingWindow('f', { ...request, points: 1 })
    expect(decision).toMatchObject({ allowed: true, used: 1, remaining: 2 })
    await store.close()
  })

  test('100 concurrent decisions from two stores of one process: exactly the limit', async () => {
    const prefix = uniquePrefix('memcached-limiter-two')
    const [one, two] = [open(prefix), open(prefix)]
    const [a, b] = [one.rateLimiter(), two.rateLimiter()]
    const r = { ...request, limit: 10, points: 1 }
    // Two backends: their CAS writes really race (each only queues its own callers).
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).slidingWindow('race', r)),
    )
    expect(results.filter((d) => d.allowed)).toHaveLength(10)
    await one.close()
    await two.close()
  })

  test('bad keys and a closed store are refused', async () => {
    const store = open()
    const limits = store.rateLimiter()
    await expect(limits.fixedWindow('', { ...request, points: 1 })).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    })
    await store.close()
    await expect(limits.fixedWindow('k', { ...request, points: 1 })).rejects.toMatchObject({
      code: 'E_STORE_CLOSED',
    })
  })
})
