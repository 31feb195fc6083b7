import { fileURLToPath } from 'node:url'
import { describeLimiter } from '@cellar/conformance'
import type { Knex } from 'knex'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { randomPrefix } from './helpers.js'
import { limiterOver } from './limiter.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()
const child = fileURLToPath(new URL('./workers/limiter-child.ts', import.meta.url))
const HOUR = 3_600_000

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore native limiter on ${name}`, () => {
    if (target === undefined) return
    let shared: Knex | undefined
    const knex = () => {
      shared ??= open(target)
      return shared
    }

    describeLimiter(
      { describe, test },
      () => {
        const store = new KnexStore({ knex: knex(), prefix: randomPrefix('limiter') })
        const listed = store.namespace('rate-limiter')
        return {
          limiter: (spec) => limiterOver(store, spec),
          expiries: async () => {
            const ttls = []
            for await (const key of listed.keys()) ttls.push(await listed.ttl(key))
            return ttls
          },
          maxKeyLength: store.capabilities.maxKeyLength,
          close: () => store.close(),
        }
      },
      {
        name: 'rate limiter (native step)',
        processes: {
          module: child,
          execArgv: ['--import', 'tsx'],
          env: {
            CELLAR_KNEX_TARGET: JSON.stringify(target),
            CELLAR_KNEX_PREFIX: randomPrefix('limiter-fork'),
          },
        },
      },
    )

    test('declares rateLimits and hands out its own step', () => {
      const store = new KnexStore({ knex: knex(), prefix: randomPrefix('caps') })
      expect(store.capabilities.rateLimits).toBe(true)
      expect(typeof store.rateLimiter().tokenBucket).toBe('function')
    })

    test('app servers an hour apart share one clock: the database server decides', async () => {
      const prefix = randomPrefix('skew')
      const behind = new KnexStore({ knex: knex(), prefix, now: () => Date.now() - HOUR })
      const ahead = new KnexStore({ knex: knex(), prefix, now: () => Date.now() + HOUR })
      const spec = { algorithm: 'fixed-window', limit: 2, windowMs: 60_000, blockMs: 0 } as const
      const a = limiterOver(behind, spec)
      const b = limiterOver(ahead, spec)
      expect((await a.consume('k')).allowed).toBe(true)
      // On app clocks, `ahead` would find the window `behind` opened long over, and start anew.
      expect((await b.consume('k')).allowed).toBe(true)
      const refused = await a.consume('k')
      expect(refused.allowed).toBe(false)
      expect(refused.retryAfterMs).toBeGreaterThan(0)
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000)
      // The row's expiry is on each writer's clock; ttl() through `behind` reads it that way.
      const ttl = await behind.namespace('rate-limiter').ttl('k')
      expect(ttl).toBeGreaterThan(0)
      await behind.close()
      await ahead.close()
    })

    test('a state row ends with its window, and the store sweep removes it', async () => {
      const store = new KnexStore({ knex: knex(), prefix: randomPrefix('sweep') })
      const limits = store.rateLimiter()
      const request = { limit: 5, windowMs: 200, points: 1, force: false, aligned: false }
      await limits.fixedWindow('gone', { ...request, blockMs: 0 })
      // The state is a row under the store's prefix, with the window's end as its expiry.
      expect(await store.ttl('gone')).toBeLessThanOrEqual(200)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await store.prune()).toBeGreaterThanOrEqual(1)
      expect(await store.has('gone')).toBe(false)
      await store.close()
    })

    test('a read takes nothing and writes nothing; reset forgets the state', async () => {
      const store = new KnexStore({ knex: knex(), prefix: randomPrefix('peek') })
      const limits = store.rateLimiter()
      const r = { limit: 2, windowMs: 60_000, force: false, aligned: false, blockMs: 0 }
      const peek = await limits.slidingWindow('p', { ...r, points: 0 })
      expect(peek).toMatchObject({ allowed: true, used: 0, remaining: 2 })
      expect(await store.has('p')).toBe(false)
      await limits.slidingWindow('p', { ...r, points: 2 })
      expect(await limits.slidingWindow('p', { ...r, points: 0 })).toMatchObject({
        allowed: false,
        remaining: 0,
      })
      await limits.reset('p')
      expect(await store.has('p')).toBe(false)
      expect((await limits.slidingWindow('p', { ...r, points: 1 })).allowed).toBe(true)
      await store.close()
    })

    test('bad keys and a closed store are refused before any statement', async () => {
      const store = new KnexStore({ knex: knex(), prefix: randomPrefix('bad') })
      const limits = store.rateLimiter()
      const r = { limit: 2, windowMs: 1000, points: 1, force: false, aligned: false, blockMs: 0 }
      await expect(limits.tokenBucket('', r)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      await store.close()
      await expect(limits.tokenBucket('k', r)).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    })
  })
}
