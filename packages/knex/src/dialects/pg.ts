import type { Knex } from 'knex'
import type { TableNames } from '../sql.js'
import { quoteWith } from '../sql.js'
import type { SqlDialect } from '../types.js'
import * as onConflict from './on-conflict.js'

// encode(..., 'escape') leaves ASCII digits and '-' as they are and escapes everything else, so
// a regex on it tells a counter from any other bytes without a decoding error.
const TEXT = `encode(c."value", 'escape')`
const SUM = `${TEXT}::numeric + ?::numeric`
// No literal question mark anywhere: knex would take it for a binding.
// Nested CASE, not AND: PostgreSQL may evaluate AND operands in any order, and the cast must
// only run on a counter.
// Canonical decimal only (core's rule): "0", or digits not starting with 0 after an optional "-".
const NEXT_VALUE = `CASE WHEN octet_length(c."value") <= 17 AND ${TEXT} ~ '^(0|-{0,1}[1-9][0-9]*)$' THEN CASE WHEN abs(${SUM}) <= ${Number.MAX_SAFE_INTEGER} THEN convert_to((${SUM})::text, 'UTF8') END END`

/** One advisory lock for every cellar table creation in a database. */
const CREATE_LOCK = 'cellar:create-tables'

/**
 * PostgreSQL through `pg`. Keys are `text COLLATE "C"`: bytewise equality and byte order, so
 * a prefix is a primary-key range.
 */
export const pgDialect: SqlDialect = {
  name: 'pg',
  quote: (identifier) => quoteWith('"', identifier),
  // B-tree entries are limited to about a third of a page (2704 bytes): 2048 + 256 fits.
  defaultMaxKeyLength: 2048,
  defaultMaxPrefixLength: 256,
  nulInKeys: false,
  defaultMaxValueSize: 64 * 1024 * 1024,

  rows(result) {
    return (result as { rows?: Array<Record<string, unknown>> }).rows ?? []
  },

  affected(result) {
    return (result as { rowCount?: number | null }).rowCount ?? 0
  },

  keyText: (value) => String(value),

  async createTables(knex: Knex, names: TableNames) {
    // Concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's unique index in
    // PostgreSQL; a transaction-scoped advisory lock makes racing creators take turns, and
    // transactional DDL means a creator that dies leaves nothing half-made.
    // No index on expires_at: updating an indexed column rules out HOT updates, so every
    // rewrite of a row would add entries to both indexes; the sweep walks the primary key.
    await knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [CREATE_LOCK])
      await trx.raw(
        `CREATE TABLE IF NOT EXISTS ${names.cache} ("key" text COLLATE "C" PRIMARY KEY, "value" bytea NOT NULL, "expires_at" bigint)`,
      )
      await trx.raw(
        `CREATE TABLE IF NOT EXISTS ${names.locks} ("name" text COLLATE "C" PRIMARY KEY, "owner" text, "expires_at" bigint, "fence" bigint NOT NULL DEFAULT 0)`,
      )
    })
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
  return (error as { code?: unknown } | null)?.code === '23502'
}
