import type { RateLimitRequest } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'

const redis = await useRedis()

// The fixed-window script answers a plain consume without the clock (the key's expiry is the
// window's end) and hands everything else to the full step; these pin the hand-over.
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
    expect(await raw.hgetall(`${prefix}plain`)).toEqual({ a: '3' })
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
    expect(await raw.hgetall(`${prefix}mixed`)).toEqual({ a: '2' })
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
  })

  test('a first consume over the limit is refused and takes nothing', async () => {
    const limits = store.rateLimiter()
    const refused = await limits.fixedWindow('over', request({ points: 4 }))
    expect(refused).toMatchObject({ allowed: false, used: 0, remaining: 3 })
    expect((await limits.fixedWindow('over', request({ points: 3 }))).allowed).toBe(true)
  })
})

// The token bucket's key expires one window past the state's end (field e), so a consume moves
// the expiry only when the state would outlive it, not on every call.
describe.skipIf(!redis)('Redis limiter step: the token bucket expiry', () => {
  test('the key outlives its state by a window; the expiry moves only when the state passes it', async () => {
    const raw = new Redis(redis!.url)
    const prefix = uniquePrefix('redis-bucket')
    const store = new RedisStore({ connection: redis!.url, prefix })
    const limits = store.rateLimiter()
    const W = 10_000
    const r = { limit: 10, windowMs: W, points: 1, force: false, aligned: false, blockMs: 0 }
    const key = `${prefix}b`
    // One token of ten: the state ends 1 s ahead, the key a window after that.
    expect((await limits.tokenBucket('b', r)).allowed).toBe(true)
    const e = await raw.hget(key, 'e')
    const first = await raw.pttl(key)
    expect(first).toBeGreaterThan(W)
    expect(first).toBeLessThanOrEqual(W + 1_000)
    // The other nine: the state's end moves to 10 s ahead, still before e: no new expiry.
    for (let i = 0; i < 9; i++) expect((await limits.tokenBucket('b', r)).allowed).toBe(true)
    expect((await limits.tokenBucket('b', r)).allowed).toBe(false)
    expect(await raw.hget(key, 'e')).toBe(e)
    expect(await raw.pttl(key)).toBeLessThanOrEqual(first)
    // A penalty of 5 pushes the state's end to 15 s ahead, past e: the expiry moves with it.
    const penalty = await limits.tokenBucket('b', { ...r, points: 5, force: true })
    expect(penalty.allowed).toBe(false)
    expect(Number(await raw.hget(key, 'e'))).toBeGreaterThan(Number(e))
    expect(await raw.pttl(key)).toBeGreaterThan(W + 4_000)
    expect(penalty.resetMs).toBeGreaterThan(14_000)
    expect(penalty.resetMs).toBeLessThanOrEqual(15_000)
    await store.clear()
    await store.close()
    await raw.quit()
  })
})
