import type { RateLimitRequest, RateLimitState } from '@cellar/core'
import type { DialectName } from './types.js'

// The fixed window's count layout (PostgreSQL and SQLite), the layout of a fixed window with no
// block: the row's `value` is the count as plain ASCII digits and its `expires_at` is the
// window's end on the DATABASE SERVER's clock (every other state row keeps core's text
// `r1:a:b:w:blockedUntil` with an `expires_at` translated to the store's clock). A state with a
// block, or of another algorithm, is written in core's layout; rows of either layout are read by
// every path, and the next write of a fixed window without a block converts a row to this one.
//
// An allowed consume is then one upsert with nothing to parse but the count:
//
//   INSERT INTO t AS c (key, value, expires_at) VALUES (?, <points>, <now> + W)
//   ON CONFLICT (key) DO UPDATE SET
//     value = CASE WHEN <live> THEN <count + points> ELSE excluded.value END,
//     expires_at = CASE WHEN <live> THEN c.expires_at ELSE excluded.expires_at END
//   WHERE <count layout> AND (NOT <live> OR <count + points> <= L)
//   RETURNING value, expires_at, <the clock reading>
//
// <now> is the server's clock read once for the statement: PostgreSQL's statement_timestamp()
// (the start of the statement: a stable function, so every use in the statement gives the same
// reading) and SQLite's julianday('now') (fixed for a statement). A new window's row carries
// <now> + W as its expiry, so the conflict branch knows <now> from `excluded` (<live> is the
// stored end after it); an aligned window's row does not, and reads the clock again (the same
// reading). The conflict update runs under the row's lock on the latest committed row, so the
// check and the write are atomic, and a refusal writes nothing (no row comes back: the caller
// decides in its transaction). PostgreSQL takes the reading when the statement starts, before
// the row's lock: a statement that waited for another decision on the key decides on the row
// that decision wrote, with an earlier reading. Every row this layout holds ends after the time
// it was written at, so the waiting statement finds the window live, exactly as it would at the
// writer's reading: its written state is the reference step's at either reading.
//
// A row is in this layout when its value is ASCII digits only (PostgreSQL: nothing is left once
// they are trimmed; SQLite: 1 to 15 bytes, none of them a non-digit), so the count's cast reads
// exactly what `decodeCount` reads. On PostgreSQL an empty value or a count beyond bigint makes
// the cast fail (SQLSTATE class 22), which the caller takes as "no row" (`isDataException`).
// PostgreSQL returns the reading as `date_part('epoch', …)`, a double that JavaScript floors to
// milliseconds exactly as the statement does (`floor(x * 1000)`, IEEE in both).

/** A value the count statement binds. */
export type CountBinding = 'key' | 'fresh' | 'windowMs' | 'points' | 'limit'

/** The count statement and the order of its bindings. */
export interface CountStatement {
  readonly sql: string
  readonly bindings: readonly CountBinding[]
  /** PostgreSQL: the same statement with each value bound once (`$1` … `$5`, reused), for an
   * exec that sends numbered SQL as it is (prepared.ts `takesNumbered`). */
  readonly numbered?: CountStatement
}

/** `statement` with one `$n` per distinct binding instead of a `?` per use. */
function numbered(statement: CountStatement): CountStatement {
  const bindings: CountBinding[] = []
  let use = 0
  const sql = statement.sql.replace(/\?/g, () => {
    const name = statement.bindings[use++] as CountBinding
    if (!bindings.includes(name)) bindings.push(name)
    return `$${bindings.indexOf(name) + 1}`
  })
  return { sql, bindings }
}

const PG_NOW = "floor(date_part('epoch', statement_timestamp()) * 1000)::bigint"
const SQLITE_NOW = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)"

/**
 * The fixed window's one-statement allowed path on `dialect` (PostgreSQL or SQLite) over the
 * quoted `table` and columns, for requests whose `aligned` is `aligned`.
 */
export function countStatement(
  dialect: DialectName,
  names: { table: string; key: string; value: string; expires: string },
  aligned: boolean,
): CountStatement {
  const { table, key, value, expires } = names
  const pg = dialect === 'pg'
  const now = pg ? PG_NOW : SQLITE_NOW
  const int = (p: string) => `CAST(${p} AS ${pg ? 'bigint' : 'INTEGER'})`
  const bindings: CountBinding[] = ['key', 'fresh']
  const W = () => {
    bindings.push('windowMs')
    return int('?')
  }
  const end = aligned ? `${now} + ${W()} - ${now} % ${W()}` : `${now} + ${W()}`
  // The reading in the conflict branch: from the new window's end, or the clock again.
  const at = () => (aligned ? now : `excluded.${expires} - ${W()}`)
  const live = () => `c.${expires} > ${at()}`
  const count = pg
    ? `encode(c.${value}, 'escape')::bigint`
    : `CAST(CAST(c.${value} AS TEXT) AS INTEGER)`
  const guard = pg
    ? `ltrim(encode(c.${value}, 'escape'), '0123456789') = ''`
    : `length(c.${value}) BETWEEN 1 AND 15 AND NOT CAST(c.${value} AS TEXT) GLOB '*[^0-9]*'`
  const sum = () => {
    bindings.push('points')
    return `${count} + ${int('?')}`
  }
  const digits = (n: string) => (pg ? `textsend((${n})::text)` : `CAST(CAST(${n} AS TEXT) AS BLOB)`)
  const setValue = `${value} = CASE WHEN ${live()} THEN ${digits(sum())} ELSE excluded.${value} END`
  const setExpires = `${expires} = CASE WHEN ${live()} THEN c.${expires} ELSE excluded.${expires} END`
  const where = `${guard} AND (c.${expires} <= ${at()} OR ${sum()} <= ${int('?')})`
  bindings.push('limit')
  const reading = pg ? "date_part('epoch', statement_timestamp())" : now
  const fresh = pg ? 'CAST(? AS bytea)' : '?'
  const sql = `INSERT INTO ${table} AS c (${key}, ${value}, ${expires}) VALUES (?, ${fresh}, ${end}) ON CONFLICT (${key}) DO UPDATE SET ${setValue}, ${setExpires} WHERE ${where} RETURNING ${value}, ${expires}, ${reading} AS now`
  return pg ? { sql, bindings, numbered: numbered({ sql, bindings }) } : { sql, bindings }
}

/** The bindings of a count statement, in its order. */
export function countBindings(
  statement: CountStatement,
  request: RateLimitRequest,
  key: string,
): unknown[] {
  return statement.bindings.map((name) => {
    if (name === 'key') return key
    if (name === 'fresh') return Buffer.from(String(request.points))
    return request[name]
  })
}

/** The clock reading a count statement returned, in epoch ms. */
export function countNow(dialect: DialectName, reading: unknown): number {
  const n = Number(reading)
  return dialect === 'pg' ? Math.floor(n * 1000) : n
}

const COUNT = /^[0-9]+$/

/**
 * The state of a row in the count layout (`undefined` for any other value): a fixed window of
 * `count` ending at `expires` on the server's clock, no block. A row without an expiry, or with
 * a count that is not a safe integer, is no state.
 */
export function decodeCount(value: unknown, expires: number | null): RateLimitState | undefined {
  if (!(value instanceof Uint8Array) || expires === null) return undefined
  const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
  if (!COUNT.test(text)) return undefined
  const a = Number(text)
  return Number.isSafeInteger(a) ? { a, b: 0, w: expires, blockedUntil: 0 } : undefined
}

/** Whether a fixed window's `state` is kept in the count layout (no block, core's b unused). */
export function inCountLayout(state: RateLimitState): boolean {
  return state.b === 0 && state.blockedUntil === 0 && state.a >= 0
}

/** The count layout's value. */
export function encodeCount(state: RateLimitState): Buffer {
  return Buffer.from(String(state.a))
}

/** A PostgreSQL data exception (SQLSTATE class 22): the count cast met a value it can't read. */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length === 5 && code.startsWith('22')
}
