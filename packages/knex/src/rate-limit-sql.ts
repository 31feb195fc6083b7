import {
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
} from '@cellar/core'
import type { DialectName } from './types.js'

// The allowed decision of each algorithm as ONE upsert (PostgreSQL and SQLite): the step of
// core's reference (rate-limit.ts) for a consume of 0 < points <= limit, restricted to the case
// where it is allowed and no block is in force, computed in SQL on the locked row. The conflict
// update carries a WHERE: when the step would refuse (or a block is in force), the statement
// writes nothing and returns no row, and the caller decides in its transaction instead. A fresh
// key always takes the INSERT branch, which is allowed because points <= limit.
//
// One clock reading per decision: the CTE `k` reads the server's clock once (PostgreSQL never
// inlines a CTE that calls a volatile function; SQLite's 'now' is fixed for the statement).
// Its columns also carry the bound request, so each binding appears once:
// limit, windowMs, points, aligned (0/1), the store clock's now (for expires_at), then the key.
//
// The state is core's text form `r1:a:b:w:blockedUntil`; anything else reads as no state, as in
// `decodeRateLimitState`. Counts and times stay far below 2^53, so bigint arithmetic is exact;
// every division has a non-negative dividend, so SQL's truncation is the reference's floor.

interface SqlFlavour {
  readonly clock: string
  /** Keeps a subquery from being merged into its parent (which would copy its expressions). */
  readonly fence: string
  readonly int: string
  readonly max: string
  readonly min: string
  /** The level that parses a state value (`src`, an expression) into sa, sb, sw, sk. */
  parse(src: string): string
  /** Text to the column's bytes. */
  bytes(text: string): string
}

const PG_FIELDS = Array(4).fill('-{0,1}[0-9]{1,16}').join(':')

const FLAVOURS: Partial<Record<DialectName, SqlFlavour>> = {
  pg: {
    clock: 'floor(extract(epoch from clock_timestamp()) * 1000)::bigint',
    fence: ' OFFSET 0',
    int: 'bigint',
    max: 'GREATEST',
    min: 'LEAST',
    parse(src) {
      // Nested levels, not AND: the casts run only on text the pattern accepted.
      const field = (n: number) => `CASE WHEN ok THEN split_part(t, ':', ${n})::bigint END`
      return `SELECT ${field(2)} AS sa, ${field(3)} AS sb, ${field(4)} AS sw, ${field(5)} AS sk FROM (SELECT t, octet_length(t) <= 80 AND t ~ '^r1:${PG_FIELDS}$' AS ok FROM (SELECT encode(${src}, 'escape') AS t OFFSET 0) x0 OFFSET 0) x1`
    },
    bytes: (text) => `convert_to(${text}, 'UTF8')`,
  },
  sqlite: {
    clock: "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
    fence: '',
    int: 'INTEGER',
    max: 'max',
    min: 'min',
    parse(src) {
      // Split on ':' with instr, then accept only what prints back to the same text (so no
      // stray characters, leading zeros or empty fields).
      const head = (r: string) => `substr(${r}, 1, instr(${r}, ':') - 1)`
      const tail = (r: string) => `substr(${r}, instr(${r}, ':') + 1)`
      const n = (x: string) => `CAST(${x} AS INTEGER)`
      const ok = `substr(t, 1, 3) = 'r1:' AND 'r1:' || ${n('a')} || ':' || ${n('b')} || ':' || ${n('w')} || ':' || ${n('k')} = t`
      const field = (x: string) => `CASE WHEN ${ok} THEN ${n(x)} END`
      return `SELECT ${field('a')} AS sa, ${field('b')} AS sb, ${field('w')} AS sw, ${field('k')} AS sk FROM (SELECT t, a, b, ${head('r3')} AS w, ${tail('r3')} AS k FROM (SELECT t, a, ${head('r2')} AS b, ${tail('r2')} AS r3 FROM (SELECT t, ${head('r1')} AS a, ${tail('r1')} AS r2 FROM (SELECT t, substr(t, 4) AS r1 FROM (SELECT CAST(${src} AS TEXT) AS t) x0) x1) x2) x3) x4`
    },
    bytes: (text) => `CAST(${text} AS BLOB)`,
  },
}

/**
 * Each algorithm's levels over `s` (now, L, W, p, al, sn, sa, sb, sw, sk): SQL that selects
 * `v` (the new state's text), `x` (its end on the server's clock) and `ok` (allowed, no block).
 */
function algorithmLevels(f: SqlFlavour, algorithm: RateLimitAlgorithm, s: string): string {
  const unblocked = 'COALESCE(sk, 0) <= now'
  if (algorithm === 'fixed-window') {
    const fin = 'CASE WHEN sw > now THEN sw WHEN al = 1 THEN now - now % W + W ELSE now + W END'
    const nxt = `${f.max}(0, CASE WHEN sw > now THEN sa ELSE 0 END + p)`
    return `SELECT 'r1:' || nxt || ':0:' || fin || ':0' AS v, fin AS x, ${unblocked} AND nxt <= L AS ok, now, sn FROM (SELECT s.*, ${fin} AS fin, ${nxt} AS nxt FROM ${s}${f.fence}) f1`
  }
  if (algorithm === 'sliding-window') {
    const level1 = `SELECT s.*, now - now % W AS st0 FROM ${s}`
    const level2 = `SELECT f1.*, CASE WHEN sw >= st0 THEN sw ELSE st0 END AS start, CASE WHEN sw >= st0 THEN sa ELSE 0 END AS cur, CASE WHEN sw >= st0 THEN sb WHEN sw = st0 - W THEN sa ELSE 0 END AS prev FROM (${level1}${f.fence}) f1`
    const level3 = `SELECT f2.*, ${f.min}(W, ${f.max}(0, now - start)) AS el FROM (${level2}${f.fence}) f2`
    // ceil(prev * (W - el) / W) for a non-negative dividend.
    const weighted = '(prev * (W - el) + W - 1) / W'
    return `SELECT 'r1:' || ${f.max}(0, cur + p) || ':' || prev || ':' || start || ':0' AS v, start + 2 * W AS x, ${unblocked} AND ${weighted} + cur + p <= L AS ok, now, sn FROM (${level3}${f.fence}) f3`
  }
  const live = 'sa > now OR (sa = now AND sb > 0)'
  const level1 = `SELECT s.*, CASE WHEN ${live} THEN sa ELSE now END AS ta, CASE WHEN ${live} THEN sb ELSE 0 END + p * W AS nb0 FROM ${s}`
  const level2 = `SELECT f1.*, ta + nb0 / L AS na, nb0 % L AS nb FROM (${level1}${f.fence}) f1`
  const ok = `${unblocked} AND (na < now + W OR (na = now + W AND nb = 0))`
  return `SELECT 'r1:' || na || ':' || nb || ':0:0' AS v, na + CASE WHEN nb > 0 THEN 1 ELSE 0 END AS x, ${ok} AS ok, now, sn FROM (${level2}${f.fence}) f2`
}

/**
 * The state a consume of `p <= L` points writes on a key with no state (the INSERT branch): the
 * same step with every state column NULL, folded by hand so the branch costs no subqueries.
 */
function freshLevel(algorithm: RateLimitAlgorithm): string {
  if (algorithm === 'fixed-window') {
    const fin = 'CASE WHEN al = 1 THEN now - now % W + W ELSE now + W END'
    return `SELECT 'r1:' || p || ':0:' || fin || ':0' AS v, fin AS x, now, sn FROM (SELECT k.*, ${fin} AS fin FROM k) f1`
  }
  if (algorithm === 'sliding-window') {
    return `SELECT 'r1:' || p || ':0:' || start || ':0' AS v, start + 2 * W AS x, now, sn FROM (SELECT k.*, now - now % W AS start FROM k) f1`
  }
  const x = 'na + CASE WHEN nb > 0 THEN 1 ELSE 0 END'
  return `SELECT 'r1:' || na || ':' || nb || ':0:0' AS v, ${x} AS x, now, sn FROM (SELECT k.*, now + p * W / L AS na, p * W % L AS nb FROM k) f1`
}

/** Whether `dialect` has the one-statement allowed path. */
export function hasAllowedStatement(dialect: DialectName): boolean {
  return FLAVOURS[dialect] !== undefined
}

/**
 * The one-statement allowed path of `algorithm` on `table` (quoted) with quoted columns `key`,
 * `value`, `expires`. Bindings: limit, windowMs, points, aligned (0/1), the store's now
 * (integer ms), key. Returns the written `value` and the server clock's `now`, or no row.
 */
export function allowedStatement(
  dialect: DialectName,
  algorithm: RateLimitAlgorithm,
  names: { table: string; key: string; value: string; expires: string },
): string {
  const f = FLAVOURS[dialect]
  if (f === undefined) throw new Error(`no one-statement limiter step on ${dialect}`)
  const cast = (name: string) => `CAST(? AS ${f.int}) AS ${name}`
  const k = `SELECT ${f.clock} AS now, ${['L', 'W', 'p', 'al', 'sn'].map(cast).join(', ')}`
  const over = (src: string) => {
    const s = `(SELECT k.*, q.* FROM k, (${f.parse(src)}${f.fence}) q${f.fence}) s`
    return `(${algorithmLevels(f, algorithm, s)}${f.fence}) z`
  }
  const { table, key, value, expires } = names
  const row = `${f.bytes('v')}, sn + x - now`
  const current = `c.${value}`
  return `WITH k AS (${k}) INSERT INTO ${table} AS c (${key}, ${value}, ${expires}) SELECT ?, ${row} FROM (${freshLevel(algorithm)}) z WHERE true ON CONFLICT (${key}) DO UPDATE SET (${value}, ${expires}) = (SELECT ${row} FROM ${over(current)}) WHERE (SELECT ok FROM ${over(current)}) RETURNING ${value}, (SELECT now FROM k) AS now`
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
