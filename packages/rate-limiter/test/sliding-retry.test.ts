import { MemoryStore } from '@cellar/memory'
import { describe, expect, test } from 'vitest'
import { RateLimiter } from '../src/index.js'

// The weighted sliding window's `retryAfterMs`: exact (1 ms earlier is still refused, at the
// time given it passes) and within its documented bound, window − elapsed + ⌈points × window /
// limit⌉, where `elapsed` is the time into the clock-aligned window of the refusal. That bound
// passes one window (the estimate can't know when in a window its points were taken), so the
// tests also pin where it does.
const W = 60_000

function setup(limit: number, startOffset: number) {
  let now = 7 * W + startOffset // a window boundary plus an offset
  const store = new MemoryStore({ now: () => now })
  const limiter = new RateLimiter({ store, algorithm: 'sliding-window', limit, window: W })
  return {
    limiter,
    at: () => now,
    advance: (ms: number) => {
      now += ms
    },
    close: () => store.close(),
  }
}

// Fills the limit at `fill` into the window, moves to `refuseAt`, and returns the refusal.
async function refusalAfter(limit: number, points: number, fill: number, refuseAt: number) {
  const h = setup(limit, fill)
  let taken = 0
  while (taken + points <= limit) {
    expect((await h.limiter.consume('k', points)).allowed).toBe(true)
    taken += points
  }
  h.advance(refuseAt - fill)
  const refused = await h.limiter.consume('k', points)
  return { h, refused, elapsed: refuseAt % W }
}

describe('sliding window retryAfterMs', () => {
  const cases: Array<[limit: number, points: number, fill: number, refuseAt: number]> = [
    [3, 1, 0, 0],
    [3, 1, 0, 10_000],
    [3, 1, 30_000, 45_000],
    [1, 1, 0, 0],
    [10, 1, 5_000, 59_999],
    [10, 3, 0, 20_000],
    [100, 7, 1_000, 1_000],
  ]
  for (const [limit, points, fill, refuseAt] of cases) {
    test(`limit ${limit}, ${points} point(s), filled at ${fill} ms, refused at ${refuseAt} ms: exact and bounded`, async () => {
      const { h, refused, elapsed } = await refusalAfter(limit, points, fill, refuseAt)
      try {
        expect(refused.allowed).toBe(false)
        const bound = W - elapsed + Math.ceil((points * W) / limit)
        expect(refused.retryAfterMs).toBeGreaterThan(0)
        expect(refused.retryAfterMs).toBeLessThanOrEqual(bound)
        expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * W)
        h.advance(refused.retryAfterMs - 1)
        expect((await h.limiter.consume('k', points)).allowed).toBe(false)
        h.advance(1)
        expect((await h.limiter.consume('k', points)).allowed).toBe(true)
      } finally {
        await h.close()
      }
    })
  }

  test('a full window taken at its start waits past one window (the bound is tight there)', async () => {
    const { h, refused } = await refusalAfter(3, 1, 0, 0)
    try {
      // ⌈3 × (W − e) / W⌉ ≤ 2 needs e ≥ W / 3 into the next window: W + W / 3 from the refusal.
      expect(refused.retryAfterMs).toBe(W + W / 3)
    } finally {
      await h.close()
    }
  })

  test('a window filled evenly is told at most one window', async () => {
    const h = setup(4, 0)
    try {
      for (let i = 0; i < 4; i++) {
        expect((await h.limiter.consume('k')).allowed).toBe(true)
        h.advance(W / 4)
      }
      // Now at the next window's start: the previous window counts fully, and loses weight
      // evenly, so a quarter of a window frees one point.
      const refused = await h.limiter.consume('k')
      expect(refused.allowed).toBe(false)
      expect(refused.retryAfterMs).toBeLessThanOrEqual(W)
      expect(refused.retryAfterMs).toBe(W / 4)
    } finally {
      await h.close()
    }
  })
})
