import type { Knex } from 'knex'
import type { TableNames } from '../sql.js'
import { quoteWith } from '../sql.js'
import type { SqlDialect } from '../types.js'
import * as onConflict from './on-conflict.js'

const TEXT = 'CAST(c."value" AS TEXT)'
// A counter is canonical decimal (core's rule): "0", or digits not starting with 0 after an
// optional "-", 1..17 bytes of ASCII. The length comparison rejects blobs whose text form stops
// early (a NUL byte) or holds multi-byte characters.
const DIGITS = (from: number) => `substr(${TEXT}, ${from}) NOT GLOB '*[^0-9]*'`
const IS_COUNTER = `length(c."value") BETWEEN 1 AND 17 AND length(${TEXT}) = length(c."value") AND (${TEXT} = '0' OR (${TEXT} GLOB '[1-9]*' AND ${DIGITS(2)}) OR (${TEXT} GLOB '-[1-9]*' AND ${DIGITS(3)}))`
const SUM = `CAST(${TEXT} AS INTEGER) + CAST(? AS INTEGER)`
const NEXT_VALUE = `CASE WHEN ${IS_COUNTER} AND abs(${SUM}) <= ${Number.MAX_SAFE_INTEGER} THEN CAST(CAST(${SUM} AS TEXT) AS BLOB) END`

/**
 * SQLite through better-sqlite3. Arithmetic runs on the blob's text form inside the upsert.
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
    // No index on expires_at: it would move every row written with a TTL in a second B-tree;
    // the sweep walks the primary key in bounded batches instead (see the README).
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${names.cache} ("key" TEXT NOT NULL PRIMARY KEY, "value" BLOB NOT NULL, "expires_at" INTEGER) WITHOUT ROWID`,
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
}

function isNotNullViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_NOTNULL'
}
