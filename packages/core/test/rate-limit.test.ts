import { describe, expect, test } from 'vitest'
import {
  decodeRateLimitState,
  encodeRateLimitState,
  type RateLimitAlgorithm,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
} from '../src/index.js'

const request = (limit: number, windowMs: number, points = 1): RateLimitRequest => ({
  limit,
  windowMs,
  points,
  force: false,
  aligned: false,
  blockMs: 0,
})

// Runs consumes at the given times on one key; returns the decisions in order.
function run(algorithm: RateLimitAlgorithm, r: RateLimitRequest, times: number[]) {
  let state: RateLimitState | undefined
  let expiresAt = 0
  return times.map((now) => {
    const outcome = rateLimitStep(algorithm, expiresAt > now ? state : undefined, now, r)
    state = outcome.state
    expiresAt = outcome.expiresAt
    return outcome.decision
  })
}

describe('reference steps', () => {
  const algorithms: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket']
  for (const algorithm of algorithms) {
    test(`${algorithm}: retryAfterMs is exact — refused 1 ms before, allowed at it`, () => {
      for (const [limit, windowMs] of [
        [3, 1000],
        [7, 999],
        [10, 60_000],
        [1, 300],
      ] as const) {
        const start = 1_700_000_000_123
        const burst = Array.from({ length: limit + 1 }, (_, i) => start + i * 3)
        const decisions = run(algorithm, request(limit, windowMs), burst)
        const refused = decisions[limit]
        expect(refused?.allowed).toBe(false)
        const at = (burst.at(-1) as number) + (refused?.retryAfterMs as number)
        const before = run(algorithm, request(limit, windowMs), [...burst, at - 1]).at(-1)
        const after = run(algorithm, request(limit, windowMs), [...burst, at]).at(-1)
        expect(before?.allowed, `${limit}/${windowMs}: 1 ms early`).toBe(false)
        expect(after?.allowed, `${limit}/${windowMs}: on time`).toBe(true)
      }
    })
  }

  test('token bucket: exact integer refill with a window that does not divide (3 per 1000 ms)', () => {
    const r = request(3, 1000)
    const t = 1_000_000
    // Three at once, then one token every 333⅓ ms: at +334, +667 and +1000 (rounded up).
    const decisions = run('token-bucket', r, [
      t,
      t,
      t,
      t + 333,
      t + 334,
      t + 666,
      t + 667,
      t + 1000,
    ])
    expect(decisions.map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      false,
      true,
      false,
      true,
      true,
    ])
    expect(decisions.every((d) => d.remaining >= 0)).toBe(true)
  })

  test('a read (0 points) takes nothing and answers for a 1-point consume', () => {
    for (const algorithm of algorithms) {
      const t = 5_000_000
      const take = rateLimitStep(algorithm, undefined, t, request(2, 1000))
      const read = { ...request(2, 1000), points: 0 }
      const first = rateLimitStep(algorithm, take.state, t + 1, read)
      const second = rateLimitStep(algorithm, first.state, t + 2, read)
      expect(first.decision).toMatchObject({ allowed: true, remaining: 1 })
      expect(second.decision).toMatchObject({ allowed: true, remaining: 1 })
      const full = rateLimitStep(algorithm, take.state, t + 3, request(2, 1000))
      const blocked = rateLimitStep(algorithm, full.state, t + 4, read).decision
      expect(blocked.allowed).toBe(false)
      expect(blocked.retryAfterMs).toBeGreaterThan(0)
    }
  })
})

describe('the stored text form of a limiter state', () => {
  test('round-trips every field, negative and large safe integers included', () => {
    const state = { a: 3, b: -2, w: 1_764_000_000_123, blockedUntil: Number.MAX_SAFE_INTEGER }
    const bytes = encodeRateLimitState(state)
    expect(new TextDecoder().decode(bytes)).toBe(`r1:3:-2:1764000000123:${Number.MAX_SAFE_INTEGER}`)
    expect(decodeRateLimitState(bytes)).toEqual(state)
  })

  test('anything else reads as no state', () => {
    const bytes = (text: string) => new TextEncoder().encode(text)
    for (const value of [
      undefined,
      null,
      'r1:1:2:3:4', // a string, not bytes
      bytes(''),
      bytes('1'), // a counter stored under the key
      bytes('r1:1:2:3'), // a field missing
      bytes('r1:1:2:3:4:5'),
      bytes('r1:1:x:3:4'),
      bytes('r1:1.5:2:3:4'),
      bytes('r2:1:2:3:4'),
    ]) {
      expect(decodeRateLimitState(value)).toBeUndefined()
    }
  })
})
