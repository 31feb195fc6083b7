import { type CellarError, backendError as coreBackendError } from '@cellar/core'

// Codes that mean the table is missing: PostgreSQL, MySQL/MariaDB; SQLite only says it in text.
const MISSING_TABLE_CODES = new Set(['42P01', 'ER_NO_SUCH_TABLE'])
const MISSING_TABLE_HINT =
  'the table is missing: run createTable() in a migration or enable autoCreateTable'

function isMissingTable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && MISSING_TABLE_CODES.has(code)) return true
  return /no such table/i.test(error instanceof Error ? error.message : String(error))
}

/** Core's `backendError` for this package, with a hint when the table is missing. */
export function backendError(operation: string, error: unknown, key?: string): CellarError {
  const hint = isMissingTable(error) ? MISSING_TABLE_HINT : undefined
  return coreBackendError(error, { source: 'knex', operation, key, hint })
}
