import type { Knex } from 'knex'
import type { TableNames } from '../sql.js'
import { LIKE_ESCAPE, likePrefix, quoteWith } from '../sql.js'
import type { SqlDialect } from '../types.js'
import * as onConflict from './on-conflict.js'

const TEXT = 'CAST(c."value" AS TEXT)'
// A counter is 1..21 bytes of ASCII: digits, optionally after one '-'. The length comparison
// rejects blobs whose text form stops early (a NUL byte) or holds multi-byte characters.
const IS_COUNTER = `length(c."value") BETWEEN 1 AND 21 AND length(${TEXT}) = length(c."value") AND (${TEXT} GLOB '[0-9]*' OR ${TEXT} GLOB '-[0-9]*') AND substr(${TEXT}, 2) NOT GLOB '*[^0-9]*'`
const SUM = `CAST(${TEXT} AS INTEGER) + CAST(? AS INTEGER)`
const NEXT_VALUE = `CASE WHEN ${IS_COUNTER} AND abs(${SUM}) <= ${Number.MAX_SAFE_INTEGER} THEN CAST(CAST(${SUM} AS TEXT) AS BLOB) END`

/**
 * SQLite through better-sqlite3. Arithmetic runs on the blob's text form inside the upsert;
 * LIKE folds ASCII case here, so prefix matches add an exact `substr` guard.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  quote: (identifier) => quoteWith('"', identifier),
  defaultMaxKeyLength: Number.POSITIVE_INFINITY,
  defaultMaxPrefixLength: Number.POSITIVE_INFINITY,
  nulInKeys: true,
  defaultMaxValueSize: 64 * 1024 * 1024,

  rows(result) {
    return Array.isArray(result) ? result : []
  },

  affected(result) {
    return (result as { changes?: number } | undefined)?.changes ?? 0
  },

  keyText: (value) => String(value),

  async createTables(knex: Knex, names: TableNames) {
    // Each statement takes SQLite's write lock, so a racing process waits (busy timeout) and
    // then finds the table: IF NOT EXISTS is all the race needs.
    const index = [names.schema, `${names.cacheBase}_expires_at_idx`]
      .filter((part): part is string => part !== undefined)
      .map((part) => this.quote(part))
      .join('.')
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${names.cache} ("key" TEXT NOT NULL PRIMARY KEY, "value" BLOB NOT NULL, "expires_at" INTEGER) WITHOUT ROWID`,
    )
    // Partial: rows without expiry (counters, forever keys) cost no index write; the sweep's
    // "expires_at IS NOT NULL AND expires_at <= ?" still uses it.
    await knex.raw(
      `CREATE INDEX IF NOT EXISTS ${index} ON ${this.quote(names.cacheBase)} ("expires_at") WHERE "expires_at" IS NOT NULL`,
    )
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${names.locks} ("name" TEXT NOT NULL PRIMARY KEY, "owner" TEXT, "expires_at" INTEGER, "fence" INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`,
    )
  },

  upsertSql: onConflict.upsertSql,

  add(exec, _knex, names, row) {
    return onConflict.add(this, exec, names, row)
  },

  increment(exec, _knex, names, op) {
    const next = { sql: NEXT_VALUE, bindings: [op.delta, op.delta] }
    return onConflict.increment(this, exec, names, op, next, isNotNullViolation)
  },

  acquire(exec, names, op) {
    return onConflict.acquire(this, exec, names, op)
  },

  prefixMatch(column, prefix) {
    return {
      sql: `${column} LIKE ? ESCAPE '${LIKE_ESCAPE}' AND substr(${column}, 1, length(?)) = ?`,
      bindings: [likePrefix(prefix), prefix, prefix],
    }
  },
}

function isNotNullViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_NOTNULL'
}
