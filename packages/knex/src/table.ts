import type { Knex } from 'knex'
import { dialectOf } from './dialects/index.js'
import { backendError } from './errors.js'
import { DEFAULT_LOCK_TABLE, DEFAULT_TABLE, keyLimits, tableNames } from './sql.js'
import type { KnexTableOptions } from './types.js'

function namesFor(knex: Knex, options: KnexTableOptions) {
  const dialect = dialectOf(knex)
  const names = tableNames(
    dialect,
    options.tableName ?? DEFAULT_TABLE,
    options.lockTableName ?? DEFAULT_LOCK_TABLE,
  )
  return { dialect, names }
}

/**
 * Creates the cache and locks tables (and the expiry index) if they are missing; safe to run
 * from several processes at once. Call it from a migration's `up` with the store's options.
 */
export async function createTable(knex: Knex, options: KnexTableOptions = {}): Promise<void> {
  const { dialect, names } = namesFor(knex, options)
  try {
    await dialect.createTables(knex, names, keyLimits(dialect, options).columnBytes)
  } catch (error) {
    throw backendError('createTable', error)
  }
}

/** Drops the cache and locks tables if they exist; for a migration's `down`. */
export async function dropTable(knex: Knex, options: KnexTableOptions = {}): Promise<void> {
  const { names } = namesFor(knex, options)
  try {
    await knex.raw(`DROP TABLE IF EXISTS ${names.cache}`)
    await knex.raw(`DROP TABLE IF EXISTS ${names.locks}`)
  } catch (error) {
    throw backendError('dropTable', error)
  }
}
