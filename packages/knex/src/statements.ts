import { placeholders, type TableNames } from './sql.js'
import type { SqlDialect } from './types.js'

/** Rows the sweep looks at per statement (a primary-key range, no expiry index). */
export const SWEEP_BATCH = 1_000

/**
 * Statements built once per store family from the quoted names. One boundary rule everywhere:
 * a row (entry or lock) is alive while `now <= expires_at`, expired once `expires_at < now`.
 */
export interface Statements {
  readonly get: string
  readonly has: string
  readonly ttl: string
  readonly touch: string
  readonly deleteExpired: string
  readonly clearAll: string
  getMany(count: number): string
  deleteLive(count: number): string
  deleteAny(count: number): string
  upsert(count: number): string
  /** `DELETE` of keys in `[lower, upper)`, or `>= lower` when unbounded. */
  clearRange(bounded: boolean): string
  /** One page of live keys `> after` (and `< upper` when bounded), in key order. */
  keysPage(bounded: boolean): string
  /** The last key of the next sweep batch after a cursor (none: the batch reaches the end). */
  readonly sweepEdge: string
  /** Deletes expired rows with `cursor < key <= edge`. */
  readonly sweepRange: string
  /** Deletes expired rows after the cursor (the last batch). */
  readonly sweepTail: string
  readonly release: string
  readonly forceRelease: string
  readonly extend: string
  readonly inspect: string
}

function memo<K>(build: (arg: K) => string): (arg: K) => string {
  const cache = new Map<K, string>()
  return (arg) => {
    let sql = cache.get(arg)
    if (sql === undefined) {
      sql = build(arg)
      cache.set(arg, sql)
    }
    return sql
  }
}

/** Builds every statement of the store (but the per-dialect ones) for `names`. */
export function statements(dialect: SqlDialect, names: TableNames, pageSize: number): Statements {
  const q = (identifier: string) => dialect.quote(identifier)
  const [key, value, expires] = [q('key'), q('value'), q('expires_at')]
  const { cache, locks } = names
  const live = `(${expires} IS NULL OR ${expires} >= ?)`
  const below = (bounded: boolean) => (bounded ? ` AND ${key} < ?` : '')
  // Page sizes are validated integers, written inline: MySQL's prepared LIMIT wants integers.
  const page = Math.trunc(pageSize)
  return {
    get: `SELECT ${value} FROM ${cache} WHERE ${key} = ? AND ${live}`,
    has: `SELECT 1 AS ${q('found')} FROM ${cache} WHERE ${key} = ? AND ${live}`,
    ttl: `SELECT ${expires} AS ${q('expires')} FROM ${cache} WHERE ${key} = ? AND ${live}`,
    touch: `UPDATE ${cache} SET ${expires} = ? WHERE ${key} = ? AND ${live}`,
    deleteExpired: `DELETE FROM ${cache} WHERE ${key} = ? AND ${expires} < ?`,
    clearAll: `DELETE FROM ${cache}`,
    getMany: memo(
      (n) =>
        `SELECT ${key}, ${value} FROM ${cache} WHERE ${key} IN (${placeholders(n)}) AND ${live}`,
    ),
    deleteLive: memo(
      (n) => `DELETE FROM ${cache} WHERE ${key} IN (${placeholders(n)}) AND ${live}`,
    ),
    deleteAny: memo((n) => `DELETE FROM ${cache} WHERE ${key} IN (${placeholders(n)})`),
    upsert: memo((n) => dialect.upsertSql(names, n)),
    clearRange: memo((bounded) => `DELETE FROM ${cache} WHERE ${key} >= ?${below(bounded)}`),
    keysPage: memo(
      (bounded) =>
        `SELECT ${key} FROM ${cache} WHERE ${key} > ?${below(bounded)} AND ${live} ORDER BY ${key} LIMIT ${page}`,
    ),
    sweepEdge: `SELECT ${key} FROM ${cache} WHERE ${key} > ? ORDER BY ${key} LIMIT 1 OFFSET ${SWEEP_BATCH - 1}`,
    sweepRange: `DELETE FROM ${cache} WHERE ${key} > ? AND ${key} <= ? AND ${expires} < ?`,
    sweepTail: `DELETE FROM ${cache} WHERE ${key} > ? AND ${expires} < ?`,
    release: `UPDATE ${locks} SET ${q('owner')} = NULL, ${expires} = NULL WHERE ${q('name')} = ? AND ${q('owner')} = ? AND ${live}`,
    forceRelease: `UPDATE ${locks} SET ${q('owner')} = NULL, ${expires} = NULL WHERE ${q('name')} = ?`,
    extend: `UPDATE ${locks} SET ${expires} = ? WHERE ${q('name')} = ? AND ${q('owner')} = ? AND ${live}`,
    inspect: `SELECT ${q('owner')}, ${expires} AS ${q('expires')} FROM ${locks} WHERE ${q('name')} = ? AND ${q('owner')} IS NOT NULL AND ${live}`,
  }
}
