import { decodeCounter, InvalidArgumentError } from '@cellar/core'
import type { Knex } from 'knex'
import type { TableNames } from '../sql.js'
import { execOn, placeholders, quoteWith } from '../sql.js'
import type { IncrementOp, IncrementResult, SqlDialect } from '../types.js'

// InnoDB's largest index key with the DYNAMIC row format (the default since MySQL 5.7 / MariaDB 10.2).
const MAX_INDEX_BYTES = 3072
// A row is alive while now <= expires_at (the boundary rule of every cellar store).
const EXPIRED = '`expires_at` < ?'
const DEADLOCK_RETRIES = 5

function rowsOf(result: unknown): Array<Record<string, unknown>> {
  const first = Array.isArray(result) ? result[0] : undefined
  return Array.isArray(first) ? first : []
}

function affectedOf(result: unknown): number {
  const first = Array.isArray(result) ? result[0] : undefined
  return (first as { affectedRows?: number } | undefined)?.affectedRows ?? 0
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ER_LOCK_DEADLOCK'
}

/** Thrown inside the increment transaction to roll it back with a verdict. */
class Refused extends Error {
  constructor(readonly result: IncrementResult) {
    super('refused')
  }
}

/**
 * MySQL and MariaDB through `mysql2`. Keys are VARBINARY: default collations are
 * case-insensitive and ignore trailing spaces, which would merge distinct keys. mysql2 reports
 * matched (not changed) rows and MySQL has no RETURNING, so `add` is delete-expired + INSERT
 * IGNORE and `increment` is a short transaction holding the row lock.
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  quote: (identifier) => quoteWith('`', identifier),
  defaultMaxKeyLength: 1024,
  defaultMaxPrefixLength: 256,
  nulInKeys: true,
  defaultMaxValueSize: 4 * 1024 * 1024,
  rows: rowsOf,
  affected: affectedOf,

  keyText(value) {
    return Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
  },

  async createTables(knex: Knex, names: TableNames, columnBytes: number) {
    if (!Number.isSafeInteger(columnBytes) || columnBytes > MAX_INDEX_BYTES) {
      throw new InvalidArgumentError(
        `[cellar:knex] maxKeyLength + maxPrefixLength must be an integer of at most ${MAX_INDEX_BYTES} on MySQL/MariaDB (the key column size), got ${columnBytes}`,
      )
    }
    // CREATE TABLE IF NOT EXISTS holds a metadata lock, so racing creators simply find the
    // table. No index on expires_at (the sweep walks the primary key in batches).
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${names.cache} (\`key\` VARBINARY(${columnBytes}) NOT NULL, \`value\` LONGBLOB NOT NULL, \`expires_at\` BIGINT NULL, PRIMARY KEY (\`key\`)) ENGINE=InnoDB`,
    )
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${names.locks} (\`name\` VARBINARY(${columnBytes}) NOT NULL, \`owner\` VARBINARY(255) NULL, \`expires_at\` BIGINT NULL, \`fence\` BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (\`name\`)) ENGINE=InnoDB`,
    )
  },

  upsertSql(names, rows) {
    const values = new Array(rows).fill(`(${placeholders(3)})`).join(', ')
    return `INSERT INTO ${names.cache} (\`key\`, \`value\`, \`expires_at\`) VALUES ${values} ON DUPLICATE KEY UPDATE \`value\` = VALUES(\`value\`), \`expires_at\` = VALUES(\`expires_at\`)`
  },

  async add(exec, _knex, names, row) {
    // With CLIENT_FOUND_ROWS (mysql2's default) ON DUPLICATE KEY UPDATE reports 1 both for an
    // insert and for a no-op, so it cannot tell "wrote" from "was live". Dropping an expired row
    // first and letting INSERT IGNORE decide is race-free: only one insert of a key can succeed.
    await exec(`DELETE FROM ${names.cache} WHERE \`key\` = ? AND ${EXPIRED}`, [row.key, row.now])
    const result = await exec(
      `INSERT IGNORE INTO ${names.cache} (\`key\`, \`value\`, \`expires_at\`) VALUES (?, ?, ?)`,
      [row.key, row.value, row.expiresAt],
    )
    return affectedOf(result) > 0
  },

  async increment(_exec, knex, names, op) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await knex.transaction((trx) => incrementIn(trx, names, op))
      } catch (error) {
        if (error instanceof Refused) return error.result
        if (!isDeadlock(error) || attempt >= DEADLOCK_RETRIES) throw error
      }
    }
  },

  async acquire(exec, names, op) {
    // LAST_INSERT_ID(expr) hands the new fence back in the OK packet: the one-statement
    // "UPDATE ... RETURNING" MySQL lacks.
    const take = async () => {
      const result = await exec(
        `UPDATE ${names.locks} SET \`fence\` = LAST_INSERT_ID(\`fence\` + 1), \`owner\` = ?, \`expires_at\` = ? WHERE \`name\` = ? AND (\`owner\` IS NULL OR (${EXPIRED}))`,
        [op.owner, op.expiresAt, op.name, op.now],
      )
      if (affectedOf(result) === 0) return false
      return Number((result as Array<{ insertId: number | string }>)[0]?.insertId)
    }
    const taken = await take()
    if (taken !== false) return taken
    const inserted = await exec(
      `INSERT IGNORE INTO ${names.locks} (\`name\`, \`owner\`, \`expires_at\`, \`fence\`) VALUES (?, ?, ?, 1)`,
      [op.name, op.owner, op.expiresAt],
    )
    if (affectedOf(inserted) > 0) return 1
    // The row appeared meanwhile (someone else's first acquire); it may already be free again.
    return take()
  },
}

/**
 * Inside one transaction: make the row exist (a missing or expired key becomes "0" with the
 * creation expiry) and hold its lock, read it, write the sum. Arithmetic runs in JS on exactly
 * the bytes core's `decodeCounter` accepts; a refusal rolls back, leaving the value as it was.
 */
async function incrementIn(
  trx: Knex.Transaction,
  names: TableNames,
  op: IncrementOp,
): Promise<IncrementResult> {
  const exec = execOn(trx)
  // Assignments run left to right and see earlier ones: `value` goes first so that both read
  // the old `expires_at`.
  await exec(
    `INSERT INTO ${names.cache} (\`key\`, \`value\`, \`expires_at\`) VALUES (?, '0', ?) ON DUPLICATE KEY UPDATE \`value\` = IF(${EXPIRED}, VALUES(\`value\`), \`value\`), \`expires_at\` = IF(${EXPIRED}, VALUES(\`expires_at\`), \`expires_at\`)`,
    [op.key, op.expiresAt, op.now, op.now],
  )
  const rows = rowsOf(
    await exec(`SELECT \`value\` FROM ${names.cache} WHERE \`key\` = ? FOR UPDATE`, [op.key]),
  )
  const current = decodeCounter(rows[0]?.value)
  if (current === undefined) throw new Refused({ kind: 'nan' })
  const next = current + op.delta
  if (!Number.isSafeInteger(next)) throw new Refused({ kind: 'overflow', current })
  await exec(`UPDATE ${names.cache} SET \`value\` = ? WHERE \`key\` = ?`, [
    Buffer.from(String(next)),
    op.key,
  ])
  return { kind: 'ok', value: next }
}
