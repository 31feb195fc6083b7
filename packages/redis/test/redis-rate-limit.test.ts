import type { RateLimitRequest } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'

const redis = await useRedis()

// The fixed-window script answers a plain consume without the clock (a string count whose
// expiry is the window's end) and hands everything else to the full step; these pin the
// hand-over and the two stored layouts.
describe.skipIf(!redis)('Redis limiter step: the fixed window fast path', () => {
  let raw: Redis
  let store: RedisStore
  const prefix = uniquePrefix('redis-rate')
  const W = 60_000
  const request = (over: Partial<RateLimitRequest> = {}): RateLimitRequest => ({
    limit: 3,
    windowMs: W,
    points: 1,
    force: false,
    aligned: false,
    blockMs: 0,
    ...over,
  })

  beforeAll(() => {
    raw = new Redis(redis!.url)
    store = new RedisStore({ connection: redis!.url, prefix })
  })
  afterAll(async () => {
    await store.clear()
    await store.close()
    await raw.quit()
  })

  test('consumes to the limit, refuses with the window left, stores only the count', async () => {
    const limits = store.rateLimiter()
    const results = []
    for (let i = 0; i < 4; i++) results.push(await limits.fixedWindow('plain', request()))
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false])
    expect(results.map((r) => r.used)).toEqual([1, 2, 3, 3])
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0])
    const refused = results[3]!
    expect(refused.retryAfterMs).toBeGreaterThan(0)
    expect(refused.retryAfterMs).toBeLessThanOrEqual(W)
    expect(refused.resetMs).toBe(refused.retryAfterMs)
    expect(await raw.type(`${prefix}plain`)).toBe('string')
    expect(await raw.get(`${prefix}plain`)).toBe('3')
    const pttl = await raw.pttl(`${prefix}plain`)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(W)
  })

  test('a read, a penalty and a reward on a fast-path window keep its end', async () => {
    const limits = store.rateLimiter()
    await limits.fixedWindow('mixed', request())
    const before = await raw.pttl(`${prefix}mixed`)
    const read = await limits.fixedWindow('mixed', request({ points: 0 }))
    expect(read).toMatchObject({ allowed: true, used: 1, remaining: 2 })
    const penalty = await limits.fixedWindow('mixed', request({ points: 5, force: true }))
    expect(penalty).toMatchObject({ allowed: false, used: 6, remaining: 0 })
    const reward = await limits.fixedWindow('mixed', request({ points: -4 }))
    expect(reward).toMatchObject({ allowed: true, used: 2, remaining: 1 })
    // The full step read the window's end from the key's expiry and left both as they were.
    expect(await raw.get(`${prefix}mixed`)).toBe('2')
    const after = await raw.pttl(`${prefix}mixed`)
    expect(after).toBeGreaterThan(0)
    expect(after).toBeLessThanOrEqual(before)
    expect(reward.resetMs).toBeGreaterThan(0)
    expect(reward.resetMs).toBeLessThanOrEqual(before)
  })

  test('a refusal with a block duration blocks past the window, and later hits keep the block', async () => {
    const limits = store.rateLimiter()
    const blocked = request({ limit: 1, windowMs: 1_000, blockMs: 30_000 })
    expect((await limits.fixedWindow('block', blocked)).allowed).toBe(true)
    const first = await limits.fixedWindow('block', blocked)
    expect(first.allowed).toBe(false)
    expect(first.retryAfterMs).toBeGreaterThan(1_000)
    expect(first.retryAfterMs).toBeLessThanOrEqual(30_000)
    const later = await limits.fixedWindow('block', blocked)
    expect(later.allowed).toBe(false)
    expect(later.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs)
    expect(await raw.pttl(`${prefix}block`)).toBeGreaterThan(1_000)
    // A stored block needs the hash layout; the count and the window's end go with it.
    expect(await raw.type(`${prefix}block`)).toBe('hash')
    expect(await raw.hget(`${prefix}block`, 'a')).toBe('1')
  })

  test('a window stored by earlier builds (a hash, with or without its end) is read and kept', async () => {
    const limits = store.rateLimiter()
    // The first fast path's layout: only the count, the window's end as the key's expiry.
    await raw.hset(`${prefix}old-a`, 'a', '2')
    await raw.pexpire(`${prefix}old-a`, 20_000)
    const a = await limits.fixedWindow('old-a', request())
    expect(a).toMatchObject({ allowed: true, used: 3, remaining: 0 })
    expect(a.resetMs).toBeGreaterThan(18_000)
    expect(a.resetMs).toBeLessThanOrEqual(20_000)
    expect((await limits.fixedWindow('old-a', request())).allowed).toBe(false)
    expect(await raw.get(`${prefix}old-a`)).toBe('3')
    expect(await raw.pttl(`${prefix}old-a`)).toBeLessThanOrEqual(20_000)
    // The full layout, with its end in w and a block that is over.
    const [seconds] = await raw.time()
    const now = Number(seconds) * 1000
    await raw.hset(`${prefix}old-b`, { a: '1', b: '0', w: String(now + 30_000), k: '1' })
    await raw.pexpire(`${prefix}old-b`, 30_000)
    const b = await limits.fixedWindow('old-b', request())
    expect(b).toMatchObject({ allowed: true, used: 2, remaining: 1 })
    expect(b.resetMs).toBeGreaterThan(25_000)
    expect(b.resetMs).toBeLessThanOrEqual(31_000)
    expect(await raw.get(`${prefix}old-b`)).toBe('2')
    expect(await raw.pttl(`${prefix}old-b`)).toBeGreaterThan(25_000)
  })

  test('a block that ends goes back to the string layout, with a new window', async () => {
    const limits = store.rateLimiter()
    const r = request({ limit: 1, windowMs: 100, blockMs: 200 })
    expect((await limits.fixedWindow('unblock', r)).allowed).toBe(true)
    expect((await limits.fixedWindow('unblock', r)).allowed).toBe(false)
    expect(await raw.type(`${prefix}unblock`)).toBe('hash')
    await new Promise((resolve) => setTimeout(resolve, 260))
    const again = await limits.fixedWindow('unblock', r)
    expect(again).toMatchObject({ allowed: true, used: 1 })
    expect(await raw.type(`${prefix}unblock`)).toBe('string')
    expect(await raw.pttl(`${prefix}unblock`)).toBeGreaterThan(0)
  })

  test('a count without an expiry gets the window as its expiry', async () => {
    const limits = store.rateLimiter()
    await raw.set(`${prefix}stray`, '1')
    expect(await limits.fixedWindow('stray', request())).toMatchObject({ allowed: true, used: 2 })
    const pttl = await raw.pttl(`${prefix}stray`)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(W)
  })

  test('counts and windows past the one-integer reply come back exact', async () => {
    const limits = store.rateLimiter()
    const big = request({ limit: 2 ** 40, windowMs: 2 ** 33, points: 2 ** 20 })
    const first = await limits.fixedWindow('big', big)
    expect(first).toMatchObject({ allowed: true, used: 2 ** 20, remaining: 2 ** 40 - 2 ** 20 })
    expect(first.resetMs).toBe(2 ** 33)
    const second = await limits.slidingWindow('big-sliding', big)
    expect(second).toMatchObject({ allowed: true, used: 2 ** 20 })
    expect(second.resetMs).toBeGreaterThan(2 ** 33)
    // Just below the packing bounds: one integer, still exact.
    const small = request({ limit: 1_000_000, windowMs: 2 ** 32 - 1, points: 2 ** 18 - 1 })
    const packed = await limits.fixedWindow('packed', small)
    expect(packed).toMatchObject({ allowed: true, used: 2 ** 18 - 1, resetMs: 2 ** 32 - 1 })
  })

  test('a sliding window or a token bucket on a fixed window key replaces it', async () => {
    const limits = store.rateLimiter()
    await limits.fixedWindow('shared', request())
    expect(await raw.type(`${prefix}shared`)).toBe('string')
    expect(await limits.slidingWindow('shared', request())).toMatchObject({
      allowed: true,
      used: 1,
    })
    expect((await raw.getBuffer(`${prefix}shared`))?.subarray(0, 1).toString()).toBe('S')
    await raw.set(`${prefix}shared`, '5', 'PX', 10_000)
    expect(await limits.tokenBucket('shared', request())).toMatchObject({ allowed: true, used: 1 })
    expect(await raw.pttl(`${prefix}shared`)).toBeGreaterThan(0)
  })

  test('a first consume over the limit is refused and takes nothing', async () => {
    const limits = store.rateLimiter()
    const refused = await limits.fixedWindow('over', request({ points: 4 }))
    expect(refused).toMatchObject({ allowed: false, used: 0, remaining: 3 })
    expect((await limits.fixedWindow('over', request({ points: 3 }))).allowed).toBe(true)
  })
})

// The token bucket's key expires one window past the state's end (e, the third double of its
// packed state), so a consume moves the expiry only when the state would outlive it, not on
// every call.
describe.skipIf(!redis)('Redis limiter step: the token bucket expiry', () => {
  test('the key outlives its state by a window; the expiry moves only when the state passes it', async () => {
    const raw = new Redis(redis!.url)
    const prefix = uniquePrefix('redis-bucket')
    const store = new RedisStore({ connection: redis!.url, prefix })
    const limits = store.rateLimiter()
    const W = 10_000
    const r = { limit: 10, windowMs: W, points: 1, force: false, aligned: false, blockMs: 0 }
    const key = `${prefix}b`
    const e = async () => (await raw.getBuffer(key))?.readDoubleLE(17)
    // One token of ten: the state ends 1 s ahead, the key a window after that.
    expect((await limits.tokenBucket('b', r)).allowed).toBe(true)
    const end = await e()
    const first = await raw.pttl(key)
    expect(first).toBeGreaterThan(W)
    expect(first).toBeLessThanOrEqual(W + 1_000)
    // The other nine: the state's end moves to 10 s ahead, still before e: no new expiry.
    for (let i = 0; i < 9; i++) expect((await limits.tokenBucket('b', r)).allowed).toBe(true)
    expect((await limits.tokenBucket('b', r)).allowed).toBe(false)
    expect(await e()).toBe(end)
    expect(await raw.pttl(key)).toBeLessThanOrEqual(first)
    // A penalty of 5 pushes the state's end to 15 s ahead, past e: the expiry moves with it.
    const penalty = await limits.tokenBucket('b', { ...r, points: 5, force: true })
    expect(penalty.allowed).toBe(false)
    expect(await e()).toBeGreaterThan(end as number)
    expect(await raw.pttl(key)).toBeGreaterThan(W + 4_000)
    expect(penalty.resetMs).toBeGreaterThan(14_000)
    expect(penalty.resetMs).toBeLessThanOrEqual(15_000)
    await store.clear()
    await store.close()
    await raw.quit()
  })
})

describe.skipIf(!redis)('Redis limiter step: keys', () => {
  test("a key over the store's maxKeyLength is E_INVALID_KEY and writes nothing", async () => {
    const prefix = uniquePrefix('redis-rate-keys')
    const store = new RedisStore({ connection: redis!.url, prefix, maxKeyLength: 32 })
    const raw = new Redis(redis!.url)
    try {
      const limits = store.rateLimiter()
      const request: RateLimitRequest = {
        limit: 3,
        windowMs: 60_000,
        points: 1,
        force: false,
        aligned: false,
        blockMs: 0,
      }
      const long = 'k'.repeat(33)
      for (const step of [limits.fixedWindow, limits.slidingWindow, limits.tokenBucket]) {
        await expect(step.call(limits, long, request)).rejects.toMatchObject({
          code: 'E_INVALID_KEY',
        })
      }
      await expect(limits.reset(long)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      // 'é' is two UTF-8 bytes: 17 of them are 34 bytes, over the limit in bytes.
      await expect(limits.fixedWindow('é'.repeat(17), request)).rejects.toMatchObject({
        code: 'E_INVALID_KEY',
      })
      expect(await raw.keys(`${prefix}*`)).toEqual([])
      expect((await limits.fixedWindow('k'.repeat(32), request)).allowed).toBe(true)
    } finally {
      await store.clear()
      await store.close()
      await raw.quit()
    }
  })
})
