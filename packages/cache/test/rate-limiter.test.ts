import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { afterEach, describe, expect, test } from 'vitest'
import { createCache } from '../src/index.js'
import type { LimitJob } from './workers/limit.js'

const redis = await useRedis()

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.()
})

interface Target {
  readonly name: string
  /** A new store over its own data. */
  readonly make: () => Store<unknown>
  /** Handles on one shared piece of data, each closed by the cache it is given. */
  readonly shared: () => () => Store<unknown>
  /** Limiter state is kept as entries of the namespace, so `clear()` takes it too. */
  readonly clearTakesLimits: boolean
}

const targets: Target[] = [
  {
    name: 'memory',
    make: () => new MemoryStore(),
    shared: () => {
      const root = new MemoryStore()
      closers.push(() => root.close())
      // Namespace handles of one name share its data; closing one releases nothing shared.
      return () => root.namespace('app')
    },
    // The memory store keeps limiter state apart from its LRU (so eviction never forgets it).
    clearTakesLimits: false,
  },
]
if (redis) {
  targets.push({
    name: 'Redis',
    make: () =>
      new RedisStore({ connection: redis.url, prefix: `rl-${randomUUID().slice(0, 8)}:` }),
    shared: () => {
      const prefix = `rl-${randomUUID().slice(0, 8)}:`
      return () => new RedisStore({ connection: redis.url, prefix })
    },
    clearTakesLimits: true,
  })
}

function cacheOver(store: Store<unknown>, prefix: string) {
  const cache = createCache({
    default: 'main',
    stores: { main: store, other: store.namespace('other') },
    prefix,
  })
  closers.push(() => cache.close())
  return cache
}

const allowed = async (consume: () => Promise<{ allowed: boolean }>, n: number) => {
  const seen: boolean[] = []
  for (let i = 0; i < n; i++) seen.push((await consume()).allowed)
  return seen
}

describe.each(targets)('cache.rateLimiter() on $name', ({ make, shared, clearTakesLimits }) => {
  test('limits by the options given, with the result object of @cellar/rate-limiter', async () => {
    const cache = cacheOver(make(), 'shop')
    const limiter = cache.rateLimiter({ limit: 3, window: '1m' })
    const results = []
    for (let i = 0; i < 4; i++) results.push(await limiter.consume('ip:203.0.113.7'))
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ])
    expect(results[3]!.retryAfterMs).toBeGreaterThan(0)
    expect(results[3]!.retryAfterMs).toBeLessThanOrEqual(60_000)
    expect(await limiter.attempt('mail:1', 1, () => 'sent')).toBe('sent')
    expect(await limiter.attempt('mail:1', 1, () => 'sent')).toBe(false)
  })

  test('two limiters with different names never share counters; one name shares them', async () => {
    const cache = cacheOver(make(), 'shop')
    const login = cache.rateLimiter({ name: 'login', limit: 2, window: '1m' })
    const api = cache.rateLimiter({ name: 'api', limit: 2, window: '1m' })
    expect(await allowed(() => login.consume('user:1'), 3)).toEqual([true, true, false])
    expect(await allowed(() => api.consume('user:1'), 3)).toEqual([true, true, false])
    const loginAgain = cache.rateLimiter({ name: 'login', limit: 2, window: '1m' })
    expect((await loginAgain.consume('user:1')).allowed).toBe(false)
    // Nor does a limiter share anything with cache entries of the same key.
    await cache.put('user:1', 'cached')
    expect(await cache.get('user:1')).toBe('cached')
    expect((await api.consume('user:2')).remaining).toBe(1)
  })

  test("the cache's prefix isolates two caches over the same data", async () => {
    const handle = shared()
    const a = cacheOver(handle(), 'tenant-a')
    const b = cacheOver(handle(), 'tenant-b')
    const sameA = cacheOver(handle(), 'tenant-a')
    const options = { limit: 1, window: '1m' } as const
    expect((await a.rateLimiter(options).consume('k')).allowed).toBe(true)
    expect((await a.rateLimiter(options).consume('k')).allowed).toBe(false)
    expect((await b.rateLimiter(options).consume('k')).allowed).toBe(true)
    // Same prefix on another handle of the same data: the same counter.
    expect((await sameA.rateLimiter(options).consume('k')).allowed).toBe(false)
  })

  test('store(name).rateLimiter() keeps its state in that store', async () => {
    const cache = cacheOver(make(), 'shop')
    const options = { limit: 1, window: '1m' } as const
    expect((await cache.rateLimiter(options).consume('k')).allowed).toBe(true)
    expect((await cache.store('main').rateLimiter(options).consume('k')).allowed).toBe(false)
    expect((await cache.store('other').rateLimiter(options).consume('k')).allowed).toBe(true)
    expect((await cache.store('other').rateLimiter(options).consume('k')).allowed).toBe(false)
  })

  test.runIf(clearTakesLimits)("flush() of the cache resets its limiters' counters", async () => {
    const cache = cacheOver(make(), 'shop')
    const limiter = cache.rateLimiter({ limit: 1, window: '1m' })
    expect(await allowed(() => limiter.consume('k'), 2)).toEqual([true, false])
    await cache.flush()
    expect(await allowed(() => limiter.consume('k'), 2)).toEqual([true, false])
  })

  test('bad options and keys are typed errors naming the rule', async () => {
    const cache = cacheOver(make(), 'shop')
    expect(() => cache.rateLimiter({ limit: 0, window: '1m' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_LIMIT' }),
    )
    expect(() => cache.rateLimiter({ limit: 1, window: 'soon' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    const limiter = cache.rateLimiter({ limit: 1, window: '1m' })
    await expect(limiter.consume('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    await expect(limiter.consume('k', 1.5)).rejects.toMatchObject({ code: 'E_INVALID_LIMIT' })
    // Nothing was taken by the refused calls.
    expect((await limiter.consume('k')).allowed).toBe(true)
  })
})

describe('cache.rateLimiter() under the fake', () => {
  test('cache.fake() routes limiters to the in-process fake store', async () => {
    const cache = cacheOver(new MemoryStore(), 'shop')
    const real = cache.rateLimiter({ limit: 1, window: '1m' })
    expect((await real.consume('k')).allowed).toBe(true)
    using _fake = cache.fake()
    const faked = cache.rateLimiter({ limit: 1, window: '1m' })
    expect(await allowed(() => faked.consume('k'), 2)).toEqual([true, false])
  })
})

const PROCESSES = 4
const worker = fileURLToPath(new URL('./workers/limit.ts', import.meta.url))
const tsconfig = fileURLToPath(new URL('./workers/tsconfig.json', import.meta.url))

function run(job: LimitJob): { child: ChildProcess; allowed: Promise<number> } {
  const child = fork(worker, [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: 'inherit',
  })
  const allowed = new Promise<number>((resolve, reject) => {
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null) {
        resolve((message as { allowed: number }).allowed)
      }
    })
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)))
  })
  allowed.catch(() => {})
  return { child, allowed }
}

describe.skipIf(!redis)('cache.rateLimiter() across processes on Redis', () => {
  test(`${PROCESSES} processes × 40 consumes against a limit of 50: exactly 50 pass`, async () => {
    const job = {
      url: redis!.url,
      storePrefix: `rlp-${randomUUID().slice(0, 8)}:`,
      cachePrefix: 'app',
      consumes: 40,
      limit: 50,
    }
    const workers = Array.from({ length: PROCESSES }, () => run(job))
    await Promise.all(
      workers.map((w) => new Promise((resolve) => w.child.once('message', resolve))),
    )
    for (const w of workers) w.child.send('go')
    const counts = await Promise.all(workers.map((w) => w.allowed))
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(50)
  }, 120_000)
})
