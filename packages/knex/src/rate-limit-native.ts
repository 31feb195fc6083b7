import type { RateLimitRequest, RateLimitState } from '@cellar/core'
import type { SteppedAlgorithm } from './rate-limit-sql.js'

// The sliding window's and token bucket's layouts on PostgreSQL, which a statement reads with a
// few casts, and their one-statement allowed path: ONE upsert that decides on the row it locked,
// as the fixed window's count statement does (rate-limit-count.ts), instead of a snapshot read,
// a parse of core's text and a compare-and-set (rate-limit-sql.ts, still SQLite's path).
//
//   sliding window  value `<cur:15 digits><prev:15 digits>:<span>`, expires_at = start + span
//   token bucket    value `+<b>` (1 to 15 digits),                  expires_at = a
//
// Both hold a state without a block, its times on the DATABASE SERVER's clock (as the count
// layout: ttl(), keys() and the sweep read them on the store's), fields zero-padded or plain
// digits; `span` is the state's end minus its window start (2W while the window has a count of
// its own, W otherwise), so the start is exact whatever window the row was written with. A token
// bucket's row ends at a, the whole milliseconds of its theoretical arrival time a + b / L: the
// state is spent from a + 1 on, when the store no longer reads the row either. Every path reads
// every layout (`decodeNative`); the transaction writes a state that fits in its algorithm's
// layout, and anything else in core's text.
//
// PostgreSQL initialises a generic plan's expressions on every execution (about a thousand
// instructions per function or operator, by callgrind), and that, not the arithmetic, is most
// of a statement's cost. So these statements keep every stored number in a place one cast reads
// (or in expires_at itself), pass what the client can compute as parameters, and read the clock
// once: statement_timestamp() in the INSERT's row, from which the conflict branch knows it
// (`excluded.expires_at` minus a parameter). The reading is taken when the statement starts,
// before the row's lock: a statement that waited for another decision on the key decides on the
// row written meanwhile, with an earlier reading. Each row here ends after the reading it was
// written at, so the waiting statement sees it live, in the same window (sliding) or with the
// same arrival time (bucket), as it would at the writer's reading: the state it writes is the
// reference step's at either reading, and a refusal goes to the transaction, which reads the
// clock again under the lock. Only the decision's reported numbers count from the earlier one.
//
// A value outside the layout makes the guard false (no row: the caller decides in its
// transaction); a number beyond bigint makes a cast or an operator fail with a data exception
// (SQLSTATE class 22), which the caller takes as no row too.

/** The widest count, previous count or bucket remainder a layout keeps (15 digits). */
const FIELD = 1_000_000_000_000_000
const BIGINT = 2n ** 63n

const NOW = "floor(date_part('epoch', statement_timestamp()) * 1000)::bigint"
const READING = "date_part('epoch', statement_timestamp())"
const TEXT = (value: string) => `encode(c.${value}, 'escape')`

/**
 * The one-statement allowed path of an algorithm on its layout. Its SQL numbers its parameters
 * and uses each value once (`$1`, `$2`, … as often as needed), which PostgreSQL's prepared
 * runner sends as it is: fewer values to send and read in; `positional` is the same SQL with a
 * `?` per use for knex's `raw`, whose bindings are `order` picked from the values.
 */
export interface NativeStatement {
  readonly sql: string
  readonly positional: string
  readonly order: readonly number[]
  /** The values of $1, $2, … for `request` on `key`, or `undefined` when its numbers don't fit. */
  bindings(request: RateLimitRequest, key: string): unknown[] | undefined
}

/** `sql` with a `?` per `$n` (none inside a quoted name), and the value index of each. */
function positional(sql: string): { positional: string; order: number[] } {
  const order: number[] = []
  const text = sql.replace(/"(?:[^"]|"")*"|\$([0-9]+)/g, (match, n: string | undefined) => {
    if (n === undefined) return match
    order.push(Number(n) - 1)
    return '?'
  })
  return { positional: text, order }
}

const pad = (n: number | bigint) => String(n).padStart(15, '0')

/**
 * The sliding window's statement: the window start ST0 = now - now % W comes from the new row's
 * end (ST0 + 2W), and the stored start is expires_at - 2W once the guard has checked the span.
 * Same window (stored start >= ST0): count up; the previous one: the stored count becomes the
 * previous count; older: a new window. Allowed when ceil(prev (W - elapsed) / W) + cur + p <= L,
 * which for integers is prev * min(W, start + W - now) + cur * W <= (L - p) * W.
 */
function slidingStatement(names: Names): NativeStatement {
  const { table, key, value, expires } = names
  const t = TEXT(value)
  const cur = `substr(${t}, 1, 15)::bigint`
  const prev = `substr(${t}, 16, 15)::bigint`
  const same = `c.${expires} >= excluded.${expires}`
  const previous = `c.${expires} = excluded.${expires} - $2`
  const counted = `overlay(c.${value} placing textsend(lpad((${cur} + $5)::text, 15, '0')) from 1 for 15)`
  const shifted = `overlay(excluded.${value} placing substr(c.${value}, 1, 15) from 16 for 15)`
  const end = `greatest(c.${expires}, excluded.${expires})`
  const weight = `CASE WHEN ${same} THEN ${prev} WHEN ${previous} THEN ${cur} ELSE 0 END`
  const left = `least($2, ${end} - $2 - ${NOW})`
  const allowed = `${weight} * ${left} + CASE WHEN ${same} THEN ${cur} * $2 ELSE 0 END <= CAST($6 AS bigint)`
  const guard = `octet_length(c.${value}) = CAST($8 AS integer) AND ltrim(${t}, '0123456789') = CAST($7 AS text)`
  const sql = `INSERT INTO ${table} AS c (${key}, ${value}, ${expires}) VALUES ($1, CAST($4 AS bytea), ${NOW} / CAST($2 AS bigint) * $2 + CAST($3 AS bigint)) ON CONFLICT (${key}) DO UPDATE SET ${value} = CASE WHEN ${same} THEN ${counted} WHEN ${previous} THEN ${shifted} ELSE excluded.${value} END, ${expires} = ${end} WHERE ${guard} AND ${allowed} RETURNING ${value}, ${expires}, ${READING} AS now`
  return {
    sql,
    ...positional(sql),
    bindings(request, stored) {
      const { limit, windowMs: w, points } = request
      if (limit >= FIELD || 2 * w >= FIELD) return undefined
      // (L - p) * W, exact: in doubles while L * W stays below 2^53, else as a bigint's digits.
      const safe = limit * w <= Number.MAX_SAFE_INTEGER
      if (!safe && BigInt(limit) * BigInt(w) >= BIGINT) return undefined
      const room = safe ? (limit - points) * w : String(BigInt(limit - points) * BigInt(w))
      const span = `:${2 * w}`
      const fresh = Buffer.from(`${pad(points)}${pad(0)}${span}`)
      return [stored, w, 2 * w, fresh, points, room, span, 30 + span.length]
    },
  }
}

/**
 * The token bucket's statement, with p * W = q * L + r: a live row (a >= now) moves its arrival
 * time to a + q + floor((b + r) / L) with remainder (b + r) % L, allowed when that plus one for a
 * remainder is at most now + W; an older row starts again from now (the new row: a = now + q,
 * b = r, always allowed since p <= L).
 */
function bucketStatement(names: Names): NativeStatement {
  const { table, key, value, expires } = names
  const t = TEXT(value)
  const b = `${t}::bigint`
  const live = `c.${expires} >= excluded.${expires} - $3`
  const guard = `rtrim(${t}, '0123456789') = '+' AND octet_length(c.${value}) <= 16`
  const allowed = `(c.${expires} < excluded.${expires} - $3 OR c.${expires} + (${b} + CAST($6 AS bigint)) / $5 <= excluded.${expires} + CAST($7 AS bigint))`
  const setValue = `CASE WHEN ${live} THEN textsend('+' || ((${b} + $4) % $5)::text) ELSE excluded.${value} END`
  const setExpires = `CASE WHEN ${live} THEN c.${expires} + (${b} + $4) / $5 + $3 ELSE excluded.${expires} END`
  const sql = `INSERT INTO ${table} AS c (${key}, ${value}, ${expires}) VALUES ($1, CAST($2 AS bytea), ${NOW} + CAST($3 AS bigint)) ON CONFLICT (${key}) DO UPDATE SET ${value} = ${setValue}, ${expires} = ${setExpires} WHERE ${guard} AND ${allowed} RETURNING ${value}, ${expires}, ${READING} AS now`
  return {
    sql,
    ...positional(sql),
    bindings(request, stored) {
      const { limit, windowMs: w, points } = request
      if (limit >= FIELD) return undefined
      const pw = points * w
      if (pw > Number.MAX_SAFE_INTEGER) {
        const L = BigInt(limit)
        const big = BigInt(points) * BigInt(w)
        const [q, r] = [big / L, big % L]
        const values = [q, r, r + L - 1n, BigInt(w) - 2n * q].map(String)
        return [stored, Buffer.from(`+${r}`), values[0], values[1], limit, values[2], values[3]]
      }
      // Exact in doubles: the remainder of integers, then a division with none.
      const r = pw % limit
      const q = (pw - r) / limit
      return [stored, Buffer.from(`+${r}`), q, r, limit, r + limit - 1, w - 2 * q]
    },
  }
}

interface Names {
  readonly table: string
  readonly key: string
  readonly value: string
  readonly expires: string
}

/** The PostgreSQL one-statement allowed path of `algorithm` over the quoted table and columns. */
export function nativeStatement(algorithm: SteppedAlgorithm, names: Names): NativeStatement {
  return algorithm === 'sliding-window' ? slidingStatement(names) : bucketStatement(names)
}

const SLIDING = /^([0-9]{15})([0-9]{15}):([0-9]{1,15})$/
const BUCKET = /^\+([0-9]{1,15})$/

/**
 * The state of a row in the sliding window's or token bucket's layout (`undefined` for any other
 * value, or a row without an expiry).
 */
export function decodeNative(value: unknown, expires: number | null): RateLimitState | undefined {
  if (!(value instanceof Uint8Array) || expires === null) return undefined
  const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
  const bucket = BUCKET.exec(text)
  if (bucket !== null) return { a: expires, b: Number(bucket[1]), w: 0, blockedUntil: 0 }
  const sliding = SLIDING.exec(text)
  if (sliding === null) return undefined
  const w = expires - Number(sliding[3])
  return { a: Number(sliding[1]), b: Number(sliding[2]), w, blockedUntil: 0 }
}

/**
 * The row of `state`, which `algorithm` left ending at `end` (server clock), in the algorithm's
 * layout: its value and expires_at, or `undefined` when it does not fit (a block, a number
 * beyond the layout's digits), and core's text keeps it.
 */
export function encodeNative(
  algorithm: SteppedAlgorithm,
  state: RateLimitState,
  end: number,
): { value: Buffer; expires: number } | undefined {
  const { a, b, w, blockedUntil } = state
  if (blockedUntil !== 0 || b < 0 || b >= FIELD) return undefined
  if (algorithm === 'token-bucket') {
    return w === 0 ? { value: Buffer.from(`+${b}`), expires: a } : undefined
  }
  const span = end - w
  if (a < 0 || a >= FIELD || span < 1 || span >= FIELD) return undefined
  return { value: Buffer.from(`${pad(a)}${pad(b)}:${span}`), expires: end }
}
