import { BackendUnavailableError, CellarError } from '@cellar/core'

// Codes that mean the table is missing: PostgreSQL, MySQL/MariaDB; SQLite only says it in text.
const MISSING_TABLE_CODES = new Set(['42P01', 'ER_NO_SUCH_TABLE'])

function describe(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

function isMissingTable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && MISSING_TABLE_CODES.has(code)) return true
  return /no such table/i.test(describe(error))
}

/**
 * Turns whatever a driver (or knex's pool) threw into a cellar error: cellar errors pass
 * through, anything else becomes `E_BACKEND_UNAVAILABLE` with the original as `cause`.
 */
export function backendError(operation: string, error: unknown, key?: string): CellarError {
  if (error instanceof CellarError) return error
  const hint = isMissingTable(error)
    ? ' (the table is missing: run createTable() in a migration or enable autoCreateTable)'
    : ''
  return new BackendUnavailableError(
    `[cellar:knex] ${operation}${key === undefined ? '' : ` "${key}"`} failed: ${describe(error)}${hint}`,
    { key, cause: error },
  )
}
