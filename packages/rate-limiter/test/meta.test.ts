import { setImmediate as tick } from 'node:timers/promises'
import {
  createRecordingRunner,
  describeLimiter,
  type LimiterSpec,
  type LimiterUnderTest,
} from '@cellar/conformance'
import { MemoryStore } from '@cellar/memory'
import { describe, expect, test } from 'vitest'
import { RateLimiter } from '../src/index.js'

type Breakage = (spec: LimiterSpec, real: RateLimiter) => LimiterUnderTest

// Each mutant breaks one promise; the suite must notice it in the named case.
const mutants: Array<{ name: string; breaks: Breakage; caught: RegExp }> = [
  {
    name: 'check-then-act (a read, then a separate take)',
    breaks: (_spec, real) => ({
      ...bind(real),
      consume: async (key, points = 1) => {
        const seen = await real.get(key)
        await tick()
        if (seen.remaining < points) return { ...seen, allowed: false, retryAfterMs: 1 }
        return { ...(await real.penalty(key, points)), allowed: true }
      },
    }),
    caught: /100 concurrent consumes/,
  },
  {
    name: 'remaining goes negative past the limit',
    breaks: (_spec, real) => ({
      ...bind(real),
      consume: async (key, points = 1) => {
        const result = await real.consume(key, points)
        return result.allowed ? result : { ...result, remaining: result.remaining - points }
      },
    }),
    caught: /never negative/,
  },
  {
    name: 'bad points are clamped instead of refused',
    breaks: (_spec, real) => ({
      ...bind(real),
      consume: (key, points = 1) =>
        real.consume(key, Number.isSafeInteger(points) && points > 0 ? points : 1),
    }),
    caught: /bad input/,
  },
  {
    name: 'a block that every later hit extends',
    breaks: (spec, real) => {
      const started = new Map<string, number>()
      return {
        ...bind(real),
        consume: async (key, points = 1) => {
          const result = await real.consume(key, points)
          if (result.allowed || spec.blockMs === 0) return result
          const extended = (started.get(key) ?? 0) + 1
          started.set(key, extended)
          return { ...result, retryAfterMs: result.retryAfterMs + extended * 100 }
        },
      }
    },
    caught: /do not extend the block/,
  },
  {
    name: 'a window that never ends',
    breaks: (_spec, real) => ({
      ...bind(real),
      consume: async (key, points = 1) => {
        const result = await real.consume(key, points)
        if (!result.allowed) refused.add(key)
        return refused.has(key) ? { ...result, allowed: false, retryAfterMs: 1 } : result
      },
    }),
    caught: /really expires/,
  },
  {
    name: 'a fixed window posing as a sliding one',
    breaks: (spec, real) =>
      spec.algorithm === 'sliding-window' ? bind(fixedTwin(spec, real)) : bind(real),
    caught: /burst right after a boundary/,
  },
  {
    name: 'a bucket refilled only once per window',
    breaks: (spec, real) =>
      spec.algorithm === 'token-bucket' ? bind(fixedTwin(spec, real)) : bind(real),
    caught: /tokens come back/,
  },
]

const refused = new Set<string>()
const stores = new WeakMap<RateLimiter, MemoryStore>()

function bind(limiter: RateLimiter): LimiterUnderTest {
  return {
    consume: (key, points) => limiter.consume(key, points),
    remaining: (key) => limiter.remaining(key),
    availableIn: (key) => limiter.availableIn(key),
    clear: (key) => limiter.clear(key),
  }
}

function fixedTwin(spec: LimiterSpec, real: RateLimiter): RateLimiter {
  return new RateLimiter({
    store: stores.get(real) as MemoryStore,
    name: 'twin',
    limit: spec.limit,
    window: spec.windowMs,
    aligned: true,
    blockCache: false,
  })
}

describe('describeLimiter catches broken limiters', () => {
  for (const mutant of mutants) {
    test(mutant.name, async () => {
      const runner = createRecordingRunner()
      describeLimiter(
        runner,
        () => {
          let now = Date.now()
          const store = new MemoryStore({ now: () => now })
          return {
            limiter: (spec) => {
              const real = new RateLimiter({
                store,
                algorithm: spec.algorithm,
                limit: spec.limit,
                window: spec.windowMs,
                blockDuration: spec.blockMs,
                blockCache: false,
              })
              stores.set(real, store)
              return mutant.breaks(spec, real)
            },
            advance: (ms) => {
              now += ms
            },
            now: () => now,
            close: () => store.close(),
          }
        },
        { name: 'mutant' },
      )
      const results = await runner.run((t) => mutant.caught.test(t.title))
      const failed = results.filter((r) => r.status === 'failed')
      expect(results.length).toBeGreaterThan(0)
      expect(
        failed.length,
        `${mutant.name}: ${results.length} cases ran, none failed`,
      ).toBeGreaterThan(0)
    })
  }

  test('the real limiter passes the same cases', async () => {
    const runner = createRecordingRunner()
    describeLimiter(runner, () => {
      let now = Date.now()
      const store = new MemoryStore({ now: () => now })
      return {
        limiter: (spec) =>
          bind(
            new RateLimiter({
              store,
              algorithm: spec.algorithm,
              limit: spec.limit,
              window: spec.windowMs,
              blockDuration: spec.blockMs,
              blockCache: false,
            }),
          ),
        advance: (ms) => {
          now += ms
        },
        now: () => now,
        close: () => store.close(),
      }
    })
    const results = await runner.run((t) => !/4 processes/.test(t.title))
    expect(results.filter((r) => r.status === 'failed')).toEqual([])
    expect(results.filter((r) => r.status === 'passed').length).toBe(24)
  })
})
