import {
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  type RateLimitStep,
  slidingWindowStep,
  tokenBucketStep,
} from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import calculateSlot from 'cluster-key-slot'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'
import { canStartRedisCluster, startRedisCluster } from './helpers/cluster.js'

const redis = await useRedis()

// The sliding window and the token bucket keep their state in a 33-byte string: a tag byte and
// four little-endian doubles (sliding a, b, w, k; bucket a, b, e, k).
interface Packed {
  readonly tag: string
  readonly state: RateLimitState
  readonly e: number
}

function unpack(value: Buffer | null): Packed | undefined {
  if (value === null) return undefined
  expect(value.length).toBe(33)
  const [a, b, third, k] = [1, 9, 17, 25].map((offset) => value.readDoubleLE(offset)) as [
    number,
    number,
    number,
    number,
  ]
  const tag = String.fromCharCode(value[0] as number)
  const w = tag === 'S' ? third : 0
  return { tag, state: { a, b, w, blockedUntil: k }, e: tag === 'T' ? third : 0 }
}

// A seeded generator, so a failing sequence can be replayed.
function random(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31
    return x / 2 ** 31
  }
}

describe.skipIf(!redis)('Redis limiter step: the packed layout against the reference', () => {
  let raw: Redis
  let store: RedisStore
  const prefix = uniquePrefix('redis-packed')
  let expiryTime: boolean

  beforeAll(async () => {
    raw = new Redis(redis!.url)
    store = new RedisStore({ connection: redis!.url, prefix })
    // PEXPIRETIME (Redis 7) gives a key's expiry as an instant; older servers skip that check.
    expiryTime = await raw.call('PEXPIRETIME', `${prefix}probe`).then(
      () => true,
      () => false,
    )
  })
  afterAll(async () => {
    await store.clear()
    await store.close()
    await raw.quit()
  })

  const serverNow = async () => {
    const [seconds, micros] = await raw.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  // Each call is checked against core's reference step for some millisecond between two
  // readings of the server's clock around it: the decision, the stored state and its expiry.
  const replay = (
    algorithm: 'sliding' | 'bucket',
    step: RateLimitStep,
    call: (key: string, r: RateLimitRequest) => Promise<RateLimitDecision>,
  ) =>
    test(`${algorithm}: 150 random calls decide and store what the reference step does`, async () => {
      const next = random(algorithm === 'sliding' ? 7 : 11)
      const key = `${algorithm}-replay`
      const full = `${prefix}${key}`
      const W = 70
      // An expiry is set relative to the script's clock reading (PX): the server applies it a
      // little later, by as much as the script took (t1 - t0 bounds it).
      let slack = 1
      for (let i = 0; i < 150; i++) {
        const roll = next()
        const r: RateLimitRequest = {
          limit: 3,
          windowMs: W,
          points: roll < 0.7 ? 1 : roll < 0.78 ? 2 : roll < 0.86 ? 0 : roll < 0.93 ? -1 : 3,
          force: roll >= 0.93,
          aligned: false,
          blockMs: next() < 0.08 ? 90 : 0,
        }
        const before = unpack(await raw.getBuffer(full))
        const t0 = await serverNow()
        const decision = await call(key, r)
        const t1 = await serverNow()
        // The state and its expiry in one transaction, so the key can't expire between them.
        const read = raw.multi().getBuffer(full)
        if (expiryTime) read.call('PEXPIRETIME', full)
        const [[, value], [, at] = [null, undefined]] = (await read.exec()) as [
          [unknown, Buffer | null],
          [unknown, number]?,
        ]
        const after = unpack(value)
        const expiry = at === undefined ? undefined : Number(at)
        const t2 = await serverNow()
        slack = Math.max(slack, t1 - t0 + 1)
        // The key may have expired between the read above and the script: then it had no state.
        const starts = before === undefined ? [undefined] : [before.state, undefined]
        const matches = []
        for (let now = t0; now <= t1; now++) {
          for (const state of starts) {
            const out = step(state, now, r)
            if (JSON.stringify(out.decision) !== JSON.stringify(decision)) continue
            if (r.points === 0) {
              matches.push(JSON.stringify(after) === JSON.stringify(before) || state === undefined)
              continue
            }
            if (out.state === undefined) {
              matches.push(after === undefined)
              continue
            }
            // Gone by the time it was read: it may have expired on time since.
            if (after === undefined) {
              matches.push(out.expiresAt <= t2)
              continue
            }
            if (JSON.stringify(after.state) !== JSON.stringify(out.state)) continue
            const end = algorithm === 'sliding' ? out.expiresAt : after.e
            if (algorithm === 'bucket' && after.e < out.expiresAt) continue
            matches.push(expiry === undefined || (expiry >= end - 1 && expiry <= end + slack))
          }
        }
        expect(
          matches.includes(true),
          `call ${i}: ${JSON.stringify({ r, before, decision, after, expiry, t0, t1, t2 })}`,
        ).toBe(true)
        if (after !== undefined) expect(after.tag).toBe(algorithm === 'sliding' ? 'S' : 'T')
        if (next() < 0.3) await new Promise((resolve) => setTimeout(resolve, next() * 40))
      }
    })

  replay('sliding', slidingWindowStep, (key, r) => store.rateLimiter().slidingWindow(key, r))
  replay('bucket', tokenBucketStep, (key, r) => store.rateLimiter().tokenBucket(key, r))

  test('a hash state of earlier builds is read, then replaced by the packed layout', async () => {
    const limits = store.rateLimiter()
    const r = { limit: 5, windowMs: 60_000, points: 1, force: false, aligned: false, blockMs: 0 }
    const now = await serverNow()
    // An hour's window, so the call below stays in the window the hash names.
    const hour = { ...r, windowMs: 3_600_000 }
    const start = now - (now % 3_600_000)
    await raw.hset(`${prefix}old-sliding`, { a: '2', b: '0', w: String(start), k: '0' })
    await raw.pexpire(`${prefix}old-sliding`, 7_200_000)
    expect(await limits.slidingWindow('old-sliding', hour)).toMatchObject({
      allowed: true,
      used: 3,
    })
    const sliding = unpack(await raw.getBuffer(`${prefix}old-sliding`))
    expect(sliding?.tag).toBe('S')
    expect(sliding?.state).toMatchObject({ a: 3, b: 0, w: start, blockedUntil: 0 })
    // A bucket four tokens down (its arrival time 4 × 12 s ahead), with field e.
    const at = now + 48_000
    await raw.hset(`${prefix}old-bucket`, { a: String(at), b: '0', k: '0', e: String(at + 60_000) })
    await raw.pexpire(`${prefix}old-bucket`, 108_000)
    expect(await limits.tokenBucket('old-bucket', r)).toMatchObject({ allowed: true, used: 5 })
    const bucket = unpack(await raw.getBuffer(`${prefix}old-bucket`))
    expect(bucket?.tag).toBe('T')
    expect(bucket?.state).toMatchObject({ a: at + 12_000, b: 0, blockedUntil: 0 })
    expect(await limits.tokenBucket('old-bucket', r)).toMatchObject({ allowed: false, used: 5 })
  })

  // A refusal during a block, in a window with no count of its own, stores a state that ends
  // with that window (or the block); a reward next must find the key expiring there, not a
  // window later (found by the replay above at load: call 138 of seed 7).
  test('a reward after a blocked refusal in a new window keeps the reference expiry', async () => {
    const limits = store.rateLimiter()
    const W = 1_000
    const r = { limit: 3, windowMs: W, points: 1, force: false, aligned: false, blockMs: 1_500 }
    const key = 'sliding-block-reward'
    const full = `${prefix}${key}`
    const untilNextWindow = async () => {
      const now = await serverNow()
      const next = now - (now % W) + W
      await new Promise((resolve) => setTimeout(resolve, next - now + 5))
      return next
    }
    // The four consumes early in one window, so none of them opens the next.
    await untilNextWindow()
    for (let i = 0; i < 3; i++) expect((await limits.slidingWindow(key, r)).allowed).toBe(true)
    expect((await limits.slidingWindow(key, r)).allowed).toBe(false)
    // Into the next window; the block (1.5 s) outlasts the window's first 500 ms.
    const next = await untilNextWindow()
    const refused = await limits.slidingWindow(key, { ...r, blockMs: 0 })
    expect(refused.allowed).toBe(false)
    const blocked = unpack(await raw.getBuffer(full))
    expect(blocked?.state).toMatchObject({ a: 0, w: next })
    const k = blocked?.state.blockedUntil ?? 0
    const end = Math.max(next + W, k)
    const t0 = await serverNow()
    const reward = await limits.slidingWindow(key, { ...r, points: -1, blockMs: 0 })
    expect(reward.allowed).toBe(true)
    const t1 = await serverNow()
    // The key's expiry, as an instant: PTTL read between two clock readings.
    const ttl = await raw.pttl(full)
    const t2 = await serverNow()
    expect(reward.resetMs).toBeGreaterThanOrEqual(end - t1)
    expect(reward.resetMs).toBeLessThanOrEqual(end - t0)
    expect(t1 + ttl).toBeLessThanOrEqual(end + 1)
    expect(t2 + ttl).toBeGreaterThanOrEqual(end - 1)
  })

  test('a blocked key keeps its block in the packed layout', async () => {
    const limits = store.rateLimiter()
    const r = {
      limit: 1,
      windowMs: 1_000,
      points: 1,
      force: false,
      aligned: false,
      blockMs: 30_000,
    }
    for (const [name, decide] of [
      ['sliding-block', limits.slidingWindow.bind(limits)],
      ['bucket-block', limits.tokenBucket.bind(limits)],
    ] as const) {
      expect((await decide(name, r)).allowed).toBe(true)
      const refused = await decide(name, r)
      expect(refused.allowed).toBe(false)
      expect(refused.retryAfterMs).toBeGreaterThan(29_000)
      // A plain consume (no block duration: the fast path's arguments) still meets the block.
      const plain = await decide(name, { ...r, blockMs: 0 })
      expect(plain.allowed).toBe(false)
      expect(plain.retryAfterMs).toBeGreaterThan(29_000)
      const packed = unpack(await raw.getBuffer(`${prefix}${name}`))
      expect(packed?.state.blockedUntil).toBeGreaterThan((await serverNow()) + 29_000)
      expect(await raw.pttl(`${prefix}${name}`)).toBeGreaterThan(29_000)
    }
  })
})

// The scripts touch one key each, so they run on whichever master serves it; EVALSHA loads the
// script on a master that doesn't have it yet (NOSCRIPT, then EVAL).
describe.skipIf(!canStartRedisCluster())(
  'Redis limiter step: the packed layout on a Cluster',
  () => {
    test('sliding window and token bucket decide on every master', async () => {
      const server = await startRedisCluster(3)
      const cluster = new Cluster([...server.nodes])
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', () => resolve())
        cluster.once('error', reject)
      })
      const store = new RedisStore({
        connection: cluster,
        prefix: uniquePrefix('redis-cluster-rl'),
      })
      try {
        const limits = store.rateLimiter()
        const r = {
          limit: 2,
          windowMs: 60_000,
          points: 1,
          force: false,
          aligned: false,
          blockMs: 0,
        }
        const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`)
        const masters = new Set(
          keys.map((key) => cluster.slots[calculateSlot(store.prefix + key)]![0]),
        )
        expect(masters.size).toBe(3)
        for (const decide of [limits.slidingWindow.bind(limits), limits.tokenBucket.bind(limits)]) {
          for (const key of keys) {
            const results = [await decide(key, r), await decide(key, r), await decide(key, r)]
            expect(results.map((d) => [d.allowed, d.used])).toEqual([
              [true, 1],
              [true, 2],
              [false, 2],
            ])
          }
          for (const key of keys) await limits.reset(key)
        }
        const value = await cluster.getBuffer(`${store.prefix}key-0`)
        expect(value).toBeNull()
      } finally {
        await store.close()
        await cluster.quit()
        await server.stop()
      }
    }, 60_000)
  },
)
