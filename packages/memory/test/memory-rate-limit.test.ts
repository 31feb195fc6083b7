import {
  type RateLimitAlgorithm,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
} from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { MemoryStore } from '../src/index.js'
import { MemoryRateLimits } from '../src/memory-rate-limit.js'

// The memory limiter decides a fixed window's common consume in place, apart from core's
// reference step: over random sequences (clock steps forward and back, penalties, rewards,
// reads, blocks), every decision must equal the reference run on a plain map of states.
function reference() {
  const states = new Map<string, { state: RateLimitState; expiresAt: number }>()
  return (algorithm: RateLimitAlgorithm, key: string, now: number, r: RateLimitRequest) => {
    const stored = states.get(key)
    const live = stored !== undefined && stored.expiresAt > now ? stored.state : undefined
    const outcome = rateLimitStep(algorithm, live, now, r)
    if (r.points !== 0) {
      if (outcome.state !== undefined && outcome.expiresAt > now) {
        states.set(key, { state: outcome.state, expiresAt: outcome.expiresAt })
      } else states.delete(key)
    }
    return outcome.decision
  }
}

// A small deterministic generator, so a failure replays.
function random(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31
    return x / 2 ** 31
  }
}

describe('memory limiter step', () => {
  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
    test(`${algorithm}: every decision equals core's reference step`, () => {
      const next = random(algorithm.length * 7_919)
      let clock = 1_000_000
      const store = new MemoryStore({ now: () => clock })
      const limits = store.rateLimiter()
      const model = reference()
      const keys = ['a', 'b', 'c']
      let fast = 0
      const slot = { allowed: false, used: 0, remaining: 0, resetMs: 0, retryAfterMs: 0 }
      for (let i = 0; i < 5_000; i++) {
        const roll = next()
        clock += roll < 0.02 ? -Math.floor(next() * 80) : Math.floor(next() * 25)
        const kind = next()
        const request: RateLimitRequest = {
          limit: 1 + Math.floor(next() * 6),
          windowMs: next() < 0.8 ? 100 : 40,
          points: kind < 0.7 ? 1 + Math.floor(next() * 3) : kind < 0.8 ? 0 : -Math.ceil(next() * 2),
          force: next() < 0.1,
          aligned: algorithm === 'fixed-window' && next() < 0.2,
          blockMs: next() < 0.15 ? 150 : 0,
        }
        const key = keys[Math.floor(next() * keys.length)] as string
        // Every other step writes into a caller's slot (decideSync's `into`), as the limiter
        // does: the same decisions either way.
        const got = limits.decideSync?.(algorithm, key, request, i % 2 === 0 ? slot : undefined)
        expect({ ...got }, `step ${i} at ${clock}`).toEqual(model(algorithm, key, clock, request))
        if (got?.allowed === true && request.points > 0) fast++
      }
      // The sequences reach the common path often enough to mean something.
      expect(fast).toBeGreaterThan(1_000)
    })
  }

  test('every algorithm refuses a bad key, before and after valid keys hold state', () => {
    const limits = new MemoryStore().rateLimiter()
    const r = { limit: 3, windowMs: 1_000, points: 1, force: false, aligned: false, blockMs: 0 }
    for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
      for (let round = 0; round < 2; round++) {
        for (const bad of ['', '\ud800', 42 as unknown as string]) {
          expect(() => limits.decideSync?.(algorithm, bad, r)).toThrow(
            expect.objectContaining({ code: 'E_INVALID_KEY' }),
          )
        }
        limits.decideSync?.(algorithm, `ok-${algorithm}`, r)
      }
    }
  })

  test('a fixed window consumed in place keeps its end, its count and its expiry', () => {
    let clock = 5_000
    const store = new MemoryStore({ now: () => clock })
    const limits = store.rateLimiter()
    const r = { limit: 3, windowMs: 1_000, points: 1, force: false, aligned: false, blockMs: 0 }
    expect(limits.decideSync?.('fixed-window', 'k', r)).toMatchObject({ used: 1, resetMs: 1_000 })
    clock += 400
    expect(limits.decideSync?.('fixed-window', 'k', r)).toMatchObject({ used: 2, resetMs: 600 })
    clock += 100
    expect(limits.decideSync?.('fixed-window', 'k', r)).toMatchObject({ used: 3, resetMs: 500 })
    expect(limits.decideSync?.('fixed-window', 'k', r)).toEqual({
      allowed: false,
      used: 3,
      remaining: 0,
      resetMs: 500,
      retryAfterMs: 500,
    })
    clock += 500
    expect(limits.decideSync?.('fixed-window', 'k', r)).toMatchObject({
      allowed: true,
      used: 1,
      resetMs: 1_000,
    })
  })
})

describe('memory limiter on a closed store', () => {
  // The backend checks a store and its parent without the walk, and walks deeper chains:
  // closing any store of the chain refuses the steps of every handle below it.
  const r = { limit: 3, windowMs: 1_000, points: 1, force: false, aligned: false, blockMs: 0 }
  const closed = expect.objectContaining({ code: 'E_STORE_CLOSED' })
  for (const depth of [0, 1, 2, 3]) {
    for (let closing = 0; closing <= depth; closing++) {
      test(`a handle ${depth} namespace(s) deep, store ${closing} closed`, async () => {
        const chain = [new MemoryStore()]
        for (let i = 0; i < depth; i++) chain.push(chain[i]?.namespace(`n${i}`) as MemoryStore)
        const limits = chain[depth]?.rateLimiter()
        // A live key first: a hit is refused as well as a miss.
        expect(limits?.decideSync?.('fixed-window', 'k', r)).toMatchObject({ allowed: true })
        await chain[closing]?.close()
        for (const key of ['k', 'other']) {
          expect(() => limits?.decideSync?.('fixed-window', key, r)).toThrow(closed)
          await expect(limits?.fixedWindow(key, r)).rejects.toThrow(closed)
        }
        // Stores above the closed one still decide.
        if (closing > 0) {
          const above = chain[closing - 1]?.rateLimiter()
          expect(above?.decideSync?.('fixed-window', 'k', r)).toMatchObject({ allowed: true })
        }
        await chain[0]?.close()
      })
    }
  }
})

describe('memory limiter sweep', () => {
  test('expired entries of every scope are dropped in bounded passes, live ones kept', () => {
    let clock = 1_000
    const limits = new MemoryRateLimits(() => clock)
    const a = limits.scope('a')
    const b = limits.scope('b')
    const short = { limit: 5, windowMs: 100, points: 1, force: false, aligned: false, blockMs: 0 }
    const long = { ...short, windowMs: 1_000_000 }
    // Scope b's live entries come first in its iteration order: a pass that lost its place
    // would start over at them and never reach the expired ones behind.
    for (let i = 0; i < 600; i++) limits.step('fixed-window', b, `long-${i}`, long)
    for (let i = 0; i < 600; i++) {
      limits.step('fixed-window', a, `short-${i}`, short)
      limits.step('fixed-window', b, `short-${i}`, short)
    }
    expect(a.size + b.size).toBe(1_800)
    clock += 200
    // Each pass looks at 256 entries (every 1,024 steps): 1,800 entries in 8 passes, a scope's
    // end costing one more; the steps' own key stays alive.
    for (let i = 0; i < 12 * 1_024; i++) limits.step('fixed-window', b, 'long-0', long)
    expect(a.size).toBe(0)
    expect([...b.keys()].every((key) => key.startsWith('long-'))).toBe(true)
    expect(b.size).toBe(600)
  })
})
