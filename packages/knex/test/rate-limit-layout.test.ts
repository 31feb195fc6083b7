import { decodeRateLimitState, encodeRateLimitState } from '@cellar/core'
import type { Knex } from 'knex'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { randomPrefix } from './helpers.js'
import { useTargets } from './targets.js'

// The fixed window's count layout (rate-limit-count.ts) through the store's backend: what a row
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
  })
}
