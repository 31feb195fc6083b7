import { decodeRateLimitState, encodeRateLimitState } from '@cellar/core'
import type { Knex } from 'knex'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { randomPrefix } from './helpers.js'
import { useTargets } from './targets.js'

// The fixed window's count layout (rate-limit-count.ts) and on PostgreSQL the sliding window's
// and token bucket's layouts (rate-limit-native.ts) through the store's backend: what a row
// holds after each kind of decision, and rows in core's text (earlier builds, blocks) read and
// converted. MySQL/MariaDB keeps core's text for every state.

const { targets, open } = await useTargets()
const CLOCK = {
  pg: 'SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint AS now',
  sqlite: "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS now",
  mysql: 'SELECT FLOOR(UNIX_TIMESTAMP(SYSDATE(3)) * 1000) AS now',
} as const
const text = new TextDecoder()
const rows = (result: unknown): Array<Record<string, unknown>> =>
  Array.isArray(result)
    ? Array.isArray(result[0])
      ? result[0]
      : result
    : ((result as { rows: [] }).rows ?? [])
const base = { force: false, aligned: false, blockMs: 0, points: 1 }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const pad = (n: number) => String(n).padStart(15, '0')
/** Waits out the last seconds of a minute, so a test's sliding window stays in one window. */
const clearOfMinuteEnd = async (now: number) => {
  const left = 60_000 - (now % 60_000)
  if (left < 5_000) await sleep(left + 10)
}
const stateIn = (value: string | undefined) =>
  decodeRateLimitState(new TextEncoder().encode(value ?? ''))

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`the limiter's row layouts on ${name}`, () => {
    if (target === undefined) return
    const counted = target.kind !== 'mysql'
    let shared: Knex | undefined
    const knex = () => {
      shared ??= open(target)
      return shared
    }
    const serverNow = async () => Number(rows(await knex().raw(CLOCK[target.kind]))[0]?.now)
    const rowOf = async (full: string) => {
      const table = target.kind === 'mysql' ? '`cellar_cache`' : '"cellar_cache"'
      const key = target.kind === 'mysql' ? '`key`' : '"key"'
      const result = await knex().raw(`SELECT * FROM ${table} WHERE ${key} = ?`, [full])
      const row = rows(result)[0]
      return row === undefined
        ? undefined
        : { value: text.decode(row.value as Uint8Array), expires: Number(row.expires_at) }
    }

    test('a fixed window without a block is its count, ending on the server clock', async () => {
      const prefix = randomPrefix('count')
      const store = new KnexStore({ knex: knex(), prefix, now: () => Date.now() - 3_600_000 })
      const limits = store.rateLimiter()
      const r = { ...base, limit: 3, windowMs: 60_000 }
      const earliest = await serverNow()
      const first = await limits.fixedWindow('k', r)
      const second = await limits.fixedWindow('k', { ...r, points: 2 })
      const latest = await serverNow()
      expect(first).toMatchObject({ allowed: true, used: 1, remaining: 2 })
      expect(second).toMatchObject({ allowed: true, used: 3, remaining: 0 })
      const row = await rowOf(`${prefix}k`)
      if (counted) {
        // The end is the server's, not the store's clock an hour behind.
        expect(row?.value).toBe('3')
        expect(row?.expires).toBeGreaterThan(earliest + 60_000 - 1)
        expect(row?.expires).toBeLessThanOrEqual(latest + 60_000)
      } else {
        expect(decodeRateLimitState(new TextEncoder().encode(row?.value))?.a).toBe(3)
      }
      // A refusal takes nothing (and in the count layout writes nothing: in core's text the
      // transaction writes the same state with its expiry translated again).
      expect(await limits.fixedWindow('k', r)).toMatchObject({ allowed: false, used: 3 })
      const refused = await rowOf(`${prefix}k`)
      expect(refused?.value).toBe(row?.value)
      if (counted) expect(refused).toEqual(row)
      await store.close()
    })

    test("a live window in core's text (an earlier build's row) goes on counting", async () => {
      const prefix = randomPrefix('older')
      const store = new KnexStore({ knex: knex(), prefix })
      const limits = store.rateLimiter()
      const end = (await serverNow()) + 60_000
      const older = encodeRateLimitState({ a: 2, b: 0, w: end, blockedUntil: 0 })
      await store.set('k', older, 60_000)
      const r = { ...base, limit: 3, windowMs: 60_000 }
      expect(await limits.fixedWindow('k', r)).toMatchObject({ allowed: true, used: 3 })
      expect(await rowOf(`${prefix}k`)).toEqual(
        counted ? { value: '3', expires: end } : expect.objectContaining({}),
      )
      expect(await limits.fixedWindow('k', r)).toMatchObject({ allowed: false, used: 3 })
      await store.close()
    })

    test("a block keeps core's text; the next window is a count again", async () => {
      const prefix = randomPrefix('block')
      const store = new KnexStore({ knex: knex(), prefix })
      const limits = store.rateLimiter()
      const r = { ...base, limit: 1, windowMs: 100, blockMs: 150 }
      expect((await limits.fixedWindow('k', r)).allowed).toBe(true)
      const refused = await limits.fixedWindow('k', r)
      expect(refused.allowed).toBe(false)
      const blocked = await rowOf(`${prefix}k`)
      const state = decodeRateLimitState(new TextEncoder().encode(blocked?.value))
      expect(state?.blockedUntil).toBeGreaterThan(0)
      await sleep(200)
      expect(await limits.fixedWindow('k', r)).toMatchObject({ allowed: true, used: 1 })
      const after = await rowOf(`${prefix}k`)
      if (counted) expect(after?.value).toBe('1')
      else expect(decodeRateLimitState(new TextEncoder().encode(after?.value))?.a).toBe(1)
      await store.close()
    })

    for (const preparedStatements of [false, true]) {
      test(`sliding window, token bucket and count rows (preparedStatements: ${preparedStatements})`, async () => {
        const prefix = randomPrefix('native')
        const native = target.kind === 'pg'
        const hourBehind = () => Date.now() - 3_600_000
        await clearOfMinuteEnd(await serverNow())
        const store = new KnexStore({ knex: knex(), prefix, preparedStatements, now: hourBehind })
        const limits = store.rateLimiter()
        const r = { ...base, limit: 3, windowMs: 60_000 }
        const earliest = await serverNow()
        expect(await limits.slidingWindow('s', r)).toMatchObject({ allowed: true, used: 1 })
        const second = await limits.slidingWindow('s', { ...r, points: 2 })
        expect(second).toMatchObject({ allowed: true, used: 3, remaining: 0 })
        expect(await limits.slidingWindow('s', r)).toMatchObject({ allowed: false, used: 3 })
        // The fixed window's count statement with the same store (its numbered form when prepared).
        expect(await limits.fixedWindow('f', r)).toMatchObject({ allowed: true, used: 1 })
        expect(await limits.fixedWindow('f', { ...r, points: 2 })).toMatchObject({ used: 3 })
        expect(await limits.fixedWindow('f', r)).toMatchObject({ allowed: false, used: 3 })
        if (target.kind !== 'mysql') expect((await rowOf(`${prefix}f`))?.value).toBe('3')
        const b = { ...base, limit: 2, windowMs: 1_000 }
        expect(await limits.tokenBucket('b', b)).toMatchObject({ allowed: true, remaining: 1 })
        expect(await limits.tokenBucket('b', b)).toMatchObject({ allowed: true, remaining: 0 })
        expect(await limits.tokenBucket('b', b)).toMatchObject({ allowed: false, remaining: 0 })
        const latest = await serverNow()
        const sliding = await rowOf(`${prefix}s`)
        const bucket = await rowOf(`${prefix}b`)
        if (native) {
          // Counts and the span in the value, the end on the server's clock (not the store's).
          expect(sliding?.value).toBe(`${pad(3)}${pad(0)}:120000`)
          const start = (sliding?.expires ?? 0) - 120_000
          expect(start % 60_000).toBe(0)
          expect(start).toBeGreaterThan(earliest - 60_000)
          expect(start).toBeLessThanOrEqual(latest)
          // Two tokens of a 2-per-second bucket: the arrival time is a second ahead.
          expect(bucket?.value).toBe('+0')
          expect(bucket?.expires).toBeGreaterThanOrEqual(earliest + 1_000)
          expect(bucket?.expires).toBeLessThanOrEqual(latest + 1_000)
        } else {
          expect(stateIn(sliding?.value)?.a).toBe(3)
          expect(stateIn(bucket?.value)?.b).toBe(0)
        }
        await store.close()
      })
    }

    test("sliding window and bucket rows in core's text (an earlier build's) go on", async () => {
      const prefix = randomPrefix('older-native')
      const store = new KnexStore({ knex: knex(), prefix })
      const limits = store.rateLimiter()
      await clearOfMinuteEnd(await serverNow())
      const now = await serverNow()
      const start = now - (now % 60_000)
      await store.set('s', encodeRateLimitState({ a: 2, b: 0, w: start, blockedUntil: 0 }), 60_000)
      const tat = now + 30_000
      await store.set('b', encodeRateLimitState({ a: tat, b: 0, w: 0, blockedUntil: 0 }), 60_000)
      const r = { ...base, limit: 3, windowMs: 60_000 }
      expect(await limits.slidingWindow('s', r)).toMatchObject({ allowed: true, used: 3 })
      // Half a window of a 2-per-minute bucket is spent: one token is left.
      const b = { ...base, limit: 2, windowMs: 60_000 }
      expect(await limits.tokenBucket('b', b)).toMatchObject({ allowed: true, remaining: 0 })
      if (target.kind === 'pg') {
        expect(await rowOf(`${prefix}s`)).toEqual({
          value: `${pad(3)}${pad(0)}:120000`,
          expires: start + 120_000,
        })
        expect(await rowOf(`${prefix}b`)).toEqual({ value: '+0', expires: tat + 30_000 })
      }
      expect(await limits.slidingWindow('s', r)).toMatchObject({ allowed: false, used: 3 })
      expect(await limits.tokenBucket('b', b)).toMatchObject({ allowed: false })
      await store.close()
    })
  })
}
