import { UnsupportedError } from '@cellar/core'
import type { Knex } from 'knex'
import type { SqlDialect } from '../types.js'
import { mysqlDialect } from './mysql.js'
import { pgDialect } from './pg.js'
import { sqliteDialect } from './sqlite.js'

interface ClientInfo {
  dialect?: string
  driverName?: string
}

/** Picks the dialect from knex's client; throws `E_UNSUPPORTED` for drivers the store can't drive. */
export function dialectOf(knex: Knex): SqlDialect {
  const { dialect, driverName } = knex.client as ClientInfo
  if (driverName === 'better-sqlite3') return sqliteDialect
  if (dialect === 'postgresql' && driverName === 'pg') return pgDialect
  if (dialect === 'mysql' && (driverName === 'mysql2' || driverName === 'mysql'))
    return mysqlDialect
  throw new UnsupportedError(
    `[cellar:knex] unsupported knex client "${driverName ?? dialect}": use better-sqlite3, pg or mysql2`,
  )
}

/** True when the knex instance points at a private SQLite memory database. */
export function isSqliteMemory(knex: Knex): boolean {
  const settings = (knex.client as { connectionSettings?: { filename?: string } })
    .connectionSettings
  const filename = settings?.filename
  return filename === ':memory:' || filename === '' || filename?.includes('mode=memory') === true
}
