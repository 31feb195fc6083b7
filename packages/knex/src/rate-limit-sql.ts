import {
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
} from '@cellar/core'
import type { DialectName } from './types.js'

// The allowed decision of the sliding window and the token bucket as ONE upsert on SQLite (the
// fixed window has its own, cheaper layout and statement: rate-limit-count.ts; on PostgreSQL the
// sliding window and token bucket have theirs too: rate-limit-native.ts): the step of
// core's reference (rate-limit.ts) for a consume of 0 < points <= limit, restricted to the case
// where it is allowed and no block is in force, computed in SQL once, in the INSERT's source.
//
//   WITH o AS (SELECT (SELECT value FROM t WHERE key = ?) AS old)
//   INSERT INTO t ... SELECT ?, <new state>, <its expiry> FROM <the step over o> WHERE <allowed>
//   ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
//     WHERE c.value = (SELECT old FROM o)
//   RETURNING value, expires_at
//
// The step reads the stored state from the statement's snapshot and the server's clock once.
// The conflict update is a compare-and-set: it writes only if the row it locked still holds the
// bytes the step was computed from, so a state another session wrote in between is never
// overwritten (the statement then returns no row, as it does for a refusal, a block in force or
// a state it cannot parse, and the caller decides in its transaction instead). A key that had no
// row takes the INSERT branch, allowed because points <= limit; if another session inserted it
// meanwhile, the compare-and-set fails (NULL never equals). Since the decision is a function of
// the state's bytes, the clock reading and the request, a successful compare-and-set means it is
// exactly the reference step on the row it replaced, and no decision on the key was written
// between the snapshot and the clock reading: decisions on one key see non-decreasing times.
// (PostgreSQL ran this form too, at 304k-321k server instructions per consume by callgrind; its
// own layouts there cost 179k-203k: rate-limit-native.ts.)
//
// The state is core's text form `r1:a:b:w:blockedUntil`. The step accepts only plain digits
// (what core writes), at most 16 per field and every field a safe integer; anything else that is
// present returns no row, so the transaction path reads it with core's own decoder. Counts and
// times stay far below 2^53, so bigint arithmetic is exact; every division has a non-negative
// dividend, so SQL's truncation is the reference's floor.
//
// Bindings are repeated where a value is used (inline parameters cost the executor less than
// columns passed through levels): the statement lists their order (`bindingOrder`).

/** The algorithms with a step statement here (the fixed window's is rate-limit-count.ts). */
export type SteppedAlgorithm = Exclude<RateLimitAlgorithm, 'fixed-window'>

/** A value the statement binds: the request's, the store clock's now (ms), the stored key. */
export type AllowedBinding = 'limit' | 'windowMs' | 'points' | 'storeNow' | 'key'

/** The one-statement allowed path and the order of its bindings. */
export interface AllowedStatement {
  readonly sql: string
  readonly bindings: readonly AllowedBinding[]
}

interface SqlFlavour {
  readonly clock: string
  /** Keeps a subquery from being merged into its parent (which would copy its expressions). */
  readonly fence: string
  /** The fence the clock-and-parse level needs. */
  readonly levelFence: string
  readonly max: string
  readonly min: string
  /** An integer parameter. */
  readonly param: string
  /** The CTE `o`: the stored bytes as `old` (NULL when there is no row), read once. */
  read(table: string, key: string, value: string): string
  /** The level over `o` (column `old`, the stored bytes or NULL) that reads the clock as `now`
   * and parses the state; `now` is its first column, the fields follow. */
  level(): string
  /** The parsed fields as expressions over that level: 0 for no row, NULL when unparsable. */
  readonly fields: { sa: string; sb: string; sw: string; sk: string }
  /** True when every field is a safe integer (NULL fields: NULL). */
  readonly safe: string
  /** Text to the column's bytes. */
  bytes(text: string): string
}

const SAFE = '9007199254740992'

const FLAVOURS: Partial<Record<DialectName, SqlFlavour>> = {
  sqlite: {
    clock: "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
    fence: ' LIMIT -1 OFFSET 0',
    // SQLite never flattens a subquery with an OFFSET (and its 'now' is fixed per statement).
    levelFence: ' LIMIT -1 OFFSET 0',
    max: 'max',
    min: 'min',
    param: 'CAST(? AS INTEGER)',
    read: (table, key, value) =>
      `SELECT (SELECT ${value} FROM ${table} WHERE ${key} = $key) AS old`,
    level() {
      // Split on ':' with instr, then accept only what prints back to the same text (so no
      // stray characters, signs, leading zeros or empty fields).
      const head = (r: string) => `substr(${r}, 1, instr(${r}, ':') - 1)`
      const tail = (r: string) => `substr(${r}, instr(${r}, ':') + 1)`
      const n = (x: string) => `CAST(${x} AS INTEGER)`
      const ok = `substr(t, 1, 3) = 'r1:' AND 'r1:' || ${n('a')} || ':' || ${n('b')} || ':' || ${n('w')} || ':' || ${n('k')} = t AND ${n('a')} >= 0 AND ${n('b')} >= 0 AND ${n('w')} >= 0 AND ${n('k')} >= 0`
      const field = (x: string) => `CASE WHEN t IS NULL THEN 0 WHEN ${ok} THEN ${n(x)} END`
      return `SELECT ${this.clock} AS now, ${field('a')} AS sa, ${field('b')} AS sb, ${field('w')} AS sw, ${field('k')} AS sk FROM (SELECT t, a, b, ${head('r3')} AS w, ${tail('r3')} AS k FROM (SELECT t, a, ${head('r2')} AS b, ${tail('r2')} AS r3 FROM (SELECT t, ${head('r1')} AS a, ${tail('r1')} AS r2 FROM (SELECT t, substr(t, 4) AS r1 FROM (SELECT CAST(old AS TEXT) AS t FROM o) x0) x1) x2) x3) x4`
    },
    fields: { sa: 'sa', sb: 'sb', sw: 'sw', sk: 'sk' },
    safe: `max(sa, sb, sw, sk) < ${SAFE}`,
    bytes: (text) => `CAST(${text} AS BLOB)`,
  },
}

/** An algorithm's step over the level `s`: its own levels, then v, x and ok over them. */
interface Step {
  /** `SELECT … FROM s` computing what the three expressions use (`now` among it). */
  readonly level: string
  /** The new state's text. */
  readonly v: string
  /** Its end on the server's clock. */
  readonly x: string
  /** Allowed, no block in force, the stored state parsed. */
  readonly ok: string
}

// `$L`, `$W` and `$p` stand for the request's parameters until `bind` places them. The stored
// fields are never negative (digits only) and points are positive on this path, so the
// reference's max(0, …) around a new count is left out.
function stepOf(f: SqlFlavour, algorithm: SteppedAlgorithm): Step {
  const { sa, sb, sw, sk } = f.fields
  const valid = f.safe === '' ? `${sk} <= now` : `${sk} <= now AND ${f.safe}`
  if (algorithm === 'sliding-window') {
    const st0 = 'now - now % $W'
    const same = `${sw} >= ${st0}`
    const start = `CASE WHEN ${same} THEN ${sw} ELSE ${st0} END`
    const cur = `CASE WHEN ${same} THEN ${sa} ELSE 0 END`
    const prev = `CASE WHEN ${same} THEN ${sb} WHEN ${sw} = ${st0} - $W THEN ${sa} ELSE 0 END`
    const level = `SELECT now, ${start} AS start, ${cur} AS cur, ${prev} AS prev, ${valid} AS valid FROM s`
    // ceil(prev * (W - elapsed) / W) for a non-negative dividend.
    const el = `${f.min}($W, ${f.max}(0, now - start))`
    return {
      level,
      v: `'r1:' || (cur + $p) || ':' || prev || ':' || start || ':0'`,
      x: 'start + 2 * $W',
      ok: `valid AND (prev * ($W - ${el}) + $W - 1) / $W + cur + $p <= $L`,
    }
  }
  const live = `(${sa} > now OR (${sa} = now AND ${sb} > 0))`
  const ta = `CASE WHEN ${live} THEN ${sa} ELSE now END`
  const nb0 = `CASE WHEN ${live} THEN ${sb} ELSE 0 END + $p * $W`
  const level = `SELECT now, ${ta} + (${nb0}) / $L AS na, (${nb0}) % $L AS nb, ${valid} AS valid FROM s`
  return {
    level,
    v: "'r1:' || na || ':' || nb || ':0:0'",
    x: 'na + CASE WHEN nb > 0 THEN 1 ELSE 0 END',
    ok: 'valid AND (na < now + $W OR (na = now + $W AND nb = 0))',
  }
}

const TOKENS: Readonly<Record<string, AllowedBinding>> = {
  $L: 'limit',
  $W: 'windowMs',
  $p: 'points',
  $sn: 'storeNow',
  $key: 'key',
}

/** Replaces each `$name` with a placeholder and lists the bindings in order. */
function bind(f: SqlFlavour, template: string): AllowedStatement {
  const bindings: AllowedBinding[] = []
  const sql = template.replace(/\$(?:L|W|p|sn|key)\b/g, (token) => {
    const name = TOKENS[token] as AllowedBinding
    bindings.push(name)
    return name === 'key' ? '?' : f.param
  })
  return { sql, bindings }
}

/** Whether `dialect` has the one-statement allowed path. */
export function hasAllowedStatement(dialect: DialectName): boolean {
  return FLAVOURS[dialect] !== undefined
}

/**
 * The one-statement allowed path of `algorithm` on `table` (quoted) with quoted columns `key`,
 * `value`, `expires`. Returns the written `value` and `expires` (the store's now plus the state's end minus the
 * server's now: see `serverNow`), or no row.
 */
export function allowedStatement(
  dialect: DialectName,
  algorithm: SteppedAlgorithm,
  names: { table: string; key: string; value: string; expires: string },
): AllowedStatement {
  const f = FLAVOURS[dialect]
  if (f === undefined) throw new Error(`no one-statement limiter step on ${dialect}`)
  const { table, key, value, expires } = names
  const step = stepOf(f, algorithm)
  const s = `(${f.level()}${f.levelFence}) s`
  const z = `(${step.level.slice(0, -'s'.length)}${s}${f.fence}) z`
  const source = `SELECT $key, ${f.bytes(step.v)}, $sn + ${step.x} - now FROM ${z} WHERE ${step.ok}`
  return bind(
    f,
    `WITH o AS (${f.read(table, key, value)}) INSERT INTO ${table} AS c (${key}, ${value}, ${expires}) ${source} ON CONFLICT (${key}) DO UPDATE SET ${value} = excluded.${value}, ${expires} = excluded.${expires} WHERE c.${value} = (SELECT old FROM o) RETURNING ${value}, ${expires}`,
  )
}

/** The bindings of an allowed statement, in its order. */
export function allowedBindings(
  statement: AllowedStatement,
  request: RateLimitRequest,
  storeNow: number,
  key: string,
): unknown[] {
  const values: Record<AllowedBinding, unknown> = {
    limit: request.limit,
    windowMs: request.windowMs,
    points: request.points,
    storeNow,
    key,
  }
  return statement.bindings.map((name) => values[name])
}

/**
 * The server clock reading an allowed statement decided on, from what it wrote: it stored
 * `expires = storeNow + end - now`, where `end` follows from the state it wrote.
 */
export function serverNow(
  algorithm: SteppedAlgorithm,
  state: RateLimitState,
  windowMs: number,
  storeNow: number,
  expires: number,
): number {
  const end =
    algorithm === 'sliding-window' ? state.w + 2 * windowMs : state.a + (state.b > 0 ? 1 : 0)
  return storeNow + end - expires
}

/**
 * The decision of an allowed consume that left `state` at `now`: the points were taken, so it
 * reports what core's read (0 points) of that state reports, allowed and with no wait.
 */
export function allowedDecision(
  algorithm: RateLimitAlgorithm,
  state: RateLimitState,
  now: number,
  request: RateLimitRequest,
): RateLimitDecision {
  const read = rateLimitStep(algorithm, state, now, { ...request, points: 0, blockMs: 0 })
  return { ...read.decision, allowed: true, retryAfterMs: 0 }
}
