import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeLimiter } from '@cellar/conformance'
import { afterAll, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { text } from './helpers.js'
import { limiterOver } from './limiter.js'

// One directory for the whole file: the fork children must find it before any test runs.
const directory = mkdtempSync(join(tmpdir(), 'cellar-file-limiter-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))
const child = fileURLToPath(new URL('./workers/limiter-child.ts', import.meta.url))
const prefix = (label: string) => `${label}:${randomBytes(6).toString('hex')}:`
const request = { limit: 3, windowMs: 60_000, force: false, aligned: false, blockMs: 0 }

describe('FileStore native limiter', () => {
  describeLimiter(
    { describe, test },
    () => {
      const store = new FileStore({ directory, prefix: prefix('real'), pruneInterval: false })
      const listed = store.namespace('rate-limiter')
      return {
        limiter: (spec) => limiterOver(store, spec),
        expiries: async () => {
          const ttls = []
          for await (const key of listed.keys()) ttls.push(await listed.ttl(key))
          return ttls
        },
        close: () => store.close(),
      }
    },
    {
      name: 'rate limiter (native step, wall clock)',
      processes: {
        module: child,
        execArgv: ['--import', 'tsx'],
        env: { CELLAR_FILE_DIRECTORY: directory, CELLAR_FILE_PREFIX: prefix('fork') },
      },
    },
  )

  // The store's `now` option is the limiter's clock too, so the suite can move it (backwards
  // included) instead of sleeping.
  describeLimiter(
    { describe, test },
    () => {
      let offset = 0
      const now = () => Date.now() + offset
      const store = new FileStore({ directory, prefix: prefix('fake'), pruneInterval: false, now })
      return {
        limiter: (spec) => limiterOver(store, spec),
        advance: (ms) => {
          offset += ms
        },
        now,
        close: () => store.close(),
      }
    },
    { name: 'rate limiter (native step, moved clock)' },
  )

  test('declares rateLimits; the state is an entry file with the window end as expiry', async () => {
    const store = new FileStore({ directory, prefix: prefix('entry'), pruneInterval: false })
    expect(store.capabilities.rateLimits).toBe(true)
    const limits = store.rateLimiter()
    await limits.fixedWindow('w', { ...request, points: 2 })
    expect(text(await store.get('w'))).toMatch(/^r1:2:0:\d+:0$/)
    const ttl = await store.ttl('w')
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
    await store.close()
  })

  test('a read writes nothing; reset removes the state; a foreign value is no state', async () => {
    const store = new FileStore({ directory, prefix: prefix('peek'), pruneInterval: false })
    const limits = store.rateLimiter()
    expect(await limits.tokenBucket('t', { ...request, points: 0 })).toMatchObject({
      allowed: true,
      remaining: 3,
    })
    expect(await store.has('t')).toBe(false)
    await limits.tokenBucket('t', { ...request, points: 3 })
    expect((await limits.tokenBucket('t', { ...request, points: 0 })).allowed).toBe(false)
    await limits.reset('t')
    expect(await store.has('t')).toBe(false)
    await store.set('f', new TextEncoder().encode('not a state'))
    expect(await limits.slidingWindow('f', { ...request, points: 1 })).toMatchObject({
      allowed: true,
      used: 1,
    })
    await store.close()
  })

  test('bad keys and a closed store are refused', async () => {
    const store = new FileStore({ directory, prefix: prefix('bad'), pruneInterval: false })
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
