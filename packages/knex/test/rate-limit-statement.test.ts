import {
  decodeRateLimitState,
  encodeRateLimitState,
  type RateLimitAlgorithm,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
} from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import {
  countBindings,
  countNow,
  countStatement,
  decodeCount,
  isDataException,
} from '../src/rate-limit-count.js'
import { decodeNative, encodeNative, nativeStatement } from '../src/rate-limit-native.js'
import {
  allowedBindings,
  allowedDecision,
  allowedStatement,
  serverNow,
} from '../src/rate-limit-sql.js'
import { randomPrefix } from './helpers.js'
import { useTargets } from './targets.js'

// The one-statement allowed path against core's reference step, decision by decision: before
// each statement the test reads the stored state; the statement returns the server clock it
// decided on, so the reference step can be run on exactly the same input. Between statements,
// the transaction path adds what the statement never writes (blocks, forced penalties), other
// values land on the keys (a foreign count too, and core's text of a live fixed window, the
// layout earlier builds wrote), and short windows run out. The fixed window runs its count
// statement (rate-limit-count.ts), the others on PostgreSQL their statement on their own layouts
// (rate-limit-native.ts), on SQLite their step statement on core's text (rate-limit-sql.ts).

const { targets, open } = await useTargets()
const ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket']
const METHOD = {
  'fixed-window': 'fixedWindow',
  'sliding-window': 'slidingWindow',
  'token-bucket': 'tokenBucket',
} as const

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test("the statements' positional form leaves a $ in a quoted table name alone", () => {
  for (const algorithm of ['sliding-window', 'token-bucket'] as const) {
    const names = { table: '"t$1"', key: '"key"', value: '"value"', expires: '"expires_at"' }
    const statement = nativeStatement(algorithm, names)
    expect(statement.positional).toContain('INSERT INTO "t$1" AS c')
    expect(statement.positional.split('?').length - 1).toBe(statement.order.length)
    expect(statement.sql).toContain('INSERT INTO "t$1" AS c')
  }
})

for (const { name, target } of targets) {
  const dialect = target?.kind === 'pg' ? 'pg' : 'sqlite'
  const runs = target !== undefined && target.kind !== 'mysql'
  describe.skipIf(!runs)(`one-statement limiter step on ${name}`, () => {
    test('agrees with core reference step on every decision', { timeout: 120_000 }, async () => {
      if (target === undefined) return
      const knex = open(target)
      const prefix = randomPrefix('statement')
      const store = new KnexStore({ knex, prefix, pruneInterval: false })
      await store.has('created') // the tables exist from here on
      const backend = store.rateLimiter()
      const columns = {
        table: '"cellar_cache"',
        key: '"key"',
        value: '"value"',
        expires: '"expires_at"',
      }
      const rows = (result: unknown): Array<Record<string, unknown>> =>
        Array.isArray(result) ? result : ((result as { rows: [] }).rows ?? [])
      const stateOf = async (full: string) => {
        const result = await knex.raw(
          'SELECT "value", "expires_at" FROM "cellar_cache" WHERE "key" = ?',
          [full],
        )
        const row = rows(result)[0]
        const expires = row?.expires_at === undefined ? null : Number(row.expires_at)
        return {
          state:
            decodeRateLimitState(row?.value) ??
            decodeCount(row?.value, expires) ??
            decodeNative(row?.value, expires),
          value: row?.value,
          expires: row?.expires_at,
        }
      }
      const clock =
        dialect === 'pg'
          ? 'SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint AS now'
          : "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS now"
      const clockNow = async () => Number(rows(await knex.raw(clock))[0]?.now)
      const rand = random(13)
      const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T
      const counts = { allowed: 0, refused: 0, unread: 0, transaction: 0, foreign: 0, waits: 0 }
      for (let i = 0; i < 400; i++) {
        const algorithm = pick(ALGORITHMS)
        const key = `${algorithm}:${Math.floor(rand() * 3)}`
        const full = `${prefix}${key}`
        const limit = 1 + Math.floor(rand() * 4)
        const request: RateLimitRequest = {
          limit,
          windowMs: pick([25, 60, 400]),
          points: 1 + Math.floor(rand() * limit),
          force: false,
          aligned: rand() < 0.3,
          blockMs: 0,
        }
        const roll = rand()
        if (roll < 0.12) {
          // The transaction path: forced hits and blocks, which the statement must respect.
          counts.transaction++
          await backend[METHOD[algorithm]](key, {
            ...request,
            points: request.points + (rand() < 0.5 ? limit : 0),
            force: rand() < 0.4,
            blockMs: rand() < 0.5 ? 40 : 0,
          })
          continue
        }
        if (roll < 0.15) {
          counts.foreign++
          const live = `r1:1:0:${(await clockNow()) + 200}:0`
          const slid = `${'0'.repeat(14)}1${'0'.repeat(14)}2:`
          const value = pick([
            'r1:1:2:3',
            'r1:01:0:5:0',
            'plain',
            '7',
            '12abc',
            '3 ',
            live,
            '+2',
            '+',
            '+1234567890123456',
            `${slid}50`,
            `${slid}800`,
            `${slid}x`,
          ])
          await store.set(key, new TextEncoder().encode(value), rand() < 0.5 ? 300 : null)
          continue
        }
        if (roll < 0.25) {
          counts.waits++
          await new Promise((resolve) => setTimeout(resolve, 5 + rand() * 40))
        }
        const before = await stateOf(full)
        const earliest = await clockNow()
        const at = Math.ceil(Date.now())
        const fixed = algorithm === 'fixed-window'
        const native = !fixed && dialect === 'pg'
        let row: Record<string, unknown> | undefined
        if (native) {
          const statement = nativeStatement(algorithm, columns)
          const values = statement.bindings(request, full) as unknown[]
          const bindings = statement.order.map((index) => values[index])
          try {
            row = rows(await knex.raw(statement.positional, bindings as never[]))[0]
          } catch (error) {
            if (!isDataException(error)) throw error
          }
        } else if (fixed) {
          const statement = countStatement(dialect, columns, request.aligned)
          const bindings = countBindings(statement, request, full)
          try {
            row = rows(await knex.raw(statement.sql, bindings as never[]))[0]
          } catch (error) {
            // A value the count cast can't read: the backend takes it as no row.
            if (!isDataException(error)) throw error
          }
        } else {
          const statement = allowedStatement(dialect, algorithm, columns)
          const bindings = allowedBindings(statement, request, at, full)
          row = rows(await knex.raw(statement.sql, bindings as never[]))[0]
        }
        const after = await stateOf(full)
        const latest = await clockNow()
        const takes = (now: number) =>
          rateLimitStep(algorithm, before.state, now, request).decision.allowed &&
          (before.state === undefined || before.state.blockedUntil <= now)
        // A value that is not the statement's own layout is left to the transaction path: core's
        // text of a state, or for the fixed window its count with an expiry.
        // On PostgreSQL the sliding window's statement reads its layout when the row's span is
        // this request's 2W.
        const nativeOf = (state: RateLimitState) => {
          if (fixed) return undefined
          const end = Number(before.expires)
          const row = encodeNative(algorithm, state, end)
          const spans = algorithm === 'token-bucket' || end - state.w === 2 * request.windowMs
          return row !== undefined && spans ? row.value : undefined
        }
        const layout = (state: RateLimitState) =>
          native
            ? nativeOf(state)
            : fixed && before.expires !== null && state.blockedUntil === 0 && state.b === 0
              ? String(state.a)
              : fixed
                ? undefined
                : encodeRateLimitState(state)
        const own = before.state === undefined ? undefined : layout(before.state)
        const canonical =
          before.value === undefined ||
          (own !== undefined &&
            Buffer.from(own).equals(Buffer.from(before.value as Uint8Array)) &&
            (!fixed || decodeRateLimitState(before.value) === undefined))
        if (row === undefined) {
          // Refused, blocked or not a state it reads: the statement wrote nothing, and for a
          // state the reference agrees at one end at least of the interval the statement's
          // clock reading lies in.
          counts.refused++
          if (canonical) expect(takes(earliest) && takes(latest)).toBe(false)
          else counts.unread++
          expect(after.value).toEqual(before.value)
          expect(after.expires).toEqual(before.expires)
          continue
        }
        counts.allowed++
        const written = (
          fixed
            ? decodeCount(row.value, Number(row.expires_at))
            : native
              ? decodeNative(row.value, Number(row.expires_at))
              : decodeRateLimitState(row.value)
        ) as RateLimitState
        expect(Number(row.expires_at)).toBe(Number(after.expires))
        const now =
          fixed || native
            ? countNow(dialect, row.now)
            : serverNow(algorithm, written, request.windowMs, at, Number(row.expires_at))
        expect(now).toBeGreaterThanOrEqual(earliest)
        expect(now).toBeLessThanOrEqual(latest)
        const reference = rateLimitStep(algorithm, before.state, now, request)
        expect(takes(now)).toBe(true)
        expect(written).toEqual(reference.state)
        expect(after.state).toEqual(reference.state)
        // The count and sliding layouts keep the state's end on the server's clock, the bucket's
        // its arrival time's whole milliseconds; core's layout keeps the end on the store's.
        const bucketEnd = native && algorithm === 'token-bucket' ? reference.state?.a : undefined
        expect(Number(after.expires)).toBe(
          bucketEnd ?? (fixed || native ? reference.expiresAt : at + reference.expiresAt - now),
        )
        expect(allowedDecision(algorithm, written, now, request)).toEqual(reference.decision)
      }
      // Every branch was exercised. How many calls are allowed depends on the real clock (a
      // window that ends between two calls lets the next one in): 111-127 of 400 on a quiet
      // machine, 97 in a CI run, so the floors leave room.
      expect(counts.allowed).toBeGreaterThan(50)
      expect(counts.refused).toBeGreaterThan(50)
      await store.close()
    })
  })
}
