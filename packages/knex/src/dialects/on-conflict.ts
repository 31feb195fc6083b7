// Statements shared by the dialects with `INSERT ... ON CONFLICT ... RETURNING` (PostgreSQL and
// SQLite >= 3.35): upsert, add-or-take-over, single-statement increment, lock acquire.
import { decodeCounter } from '@cellar/core'
import type { TableNames } from '../sql.js'
import { placeholders } from '../sql.js'
import type { AcquireOp, AddRow, Exec, IncrementOp, IncrementResult, SqlDialect } from '../types.js'

// A row is alive while now <= expires_at (the boundary rule of every cellar store).
const EXPIRED = 'c."expires_at" < ?'

/** Multi-row upsert: later rows win, TTL replaced. */
export function upsertSql(names: TableNames, rows: number): string {
  const values = new Array(rows).fill(`(${placeholders(3)})`).join(', ')
  return `INSERT INTO ${names.cache} ("key", "value", "expires_at") VALUES ${values} ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`
}

// Statement texts are built once per table (and arithmetic): the prepared path keys its cache
// by text, and rebuilding a long string per call costs more than the lookup.
const built = new WeakMap<TableNames, Map<string, string>>()
function once(names: TableNames, id: string, build: () => string): string {
  let byId = built.get(names)
  if (byId === undefined) {
    byId = new Map()
    built.set(names, byId)
  }
  let sql = byId.get(id)
  if (sql === undefined) {
    sql = build()
    byId.set(id, sql)
  }
  return sql
}

/** Inserts, or overwrites a row only when it has expired; one statement. */
export async function add(
  dialect: SqlDialect,
  exec: Exec,
  names: TableNames,
  row: AddRow,
): Promise<boolean> {
  const sql = once(
    names,
    'add',
    () =>
      `INSERT INTO ${names.cache} AS c ("key", "value", "expires_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at" WHERE ${EXPIRED}`,
  )
  const result = await exec(sql, [row.key, row.value, row.expiresAt, row.now])
  return dialect.affected(result) > 0
}

/**
 * One statement: a missing or expired row becomes `delta` with the creation expiry; a live
 * counter gets `nextValue` (the dialect's arithmetic on the blob, NULL when it is not a
 * canonical counter or the sum leaves the safe integers) and keeps its expiry. NULL breaks the
 * NOT NULL constraint, which aborts the statement with the row unchanged; a read then tells
 * which of the two it was.
 */
export async function increment(
  dialect: SqlDialect,
  exec: Exec,
  names: TableNames,
  op: IncrementOp,
  nextValue: { sql: string; bindings: unknown[] },
  isNotNullViolation: (error: unknown) => boolean,
): Promise<IncrementResult> {
  const sql = once(
    names,
    `increment ${nextValue.sql}`,
    () =>
      `INSERT INTO ${names.cache} AS c ("key", "value", "expires_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" = CASE WHEN ${EXPIRED} THEN excluded."value" ELSE ${nextValue.sql} END, "expires_at" = CASE WHEN ${EXPIRED} THEN excluded."expires_at" ELSE c."expires_at" END RETURNING "value"`,
  )
  const initial = Buffer.from(String(op.delta))
  try {
    const bindings = [op.key, initial, op.expiresAt, op.now, ...nextValue.bindings, op.now]
    const value = decodeCounter(dialect.rows(await exec(sql, bindings))[0]?.value)
    // Unreachable unless someone else writes non-counters with this statement's shape.
    return value === undefined ? { kind: 'nan' } : { kind: 'ok', value }
  } catch (error) {
    if (!isNotNullViolation(error)) throw error
    const current = await exec(`SELECT "value" FROM ${names.cache} WHERE "key" = ?`, [op.key])
    const counter = decodeCounter(dialect.rows(current)[0]?.value)
    return counter === undefined ? { kind: 'nan' } : { kind: 'overflow', current: counter }
  }
}

/** Takes the lock when free or expired, bumping the fence; RETURNING tells whether it did. */
export async function acquire(
  dialect: SqlDialect,
  exec: Exec,
  names: TableNames,
  op: AcquireOp,
): Promise<number | false> {
  const sql = once(
    names,
    'acquire',
    () =>
      `INSERT INTO ${names.locks} AS c ("name", "owner", "expires_at", "fence") VALUES (?, ?, ?, 1) ON CONFLICT ("name") DO UPDATE SET "owner" = excluded."owner", "expires_at" = excluded."expires_at", "fence" = c."fence" + 1 WHERE c."owner" IS NULL OR ${EXPIRED} RETURNING "fence"`,
  )
  const result = await exec(sql, [op.name, op.owner, op.expiresAt, op.now])
  const fence = dialect.rows(result)[0]?.fence
  return fence === undefined ? false : Number(fence)
}
