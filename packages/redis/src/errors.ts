import { BackendUnavailableError, CellarError, InvalidArgumentError } from '@cellar/core'

/**
 * Turns whatever a command rejected with into a cellar error: cellar errors pass through,
 * INCRBY's "not an integer" reply becomes `E_NOT_A_NUMBER`, the rest `E_BACKEND_UNAVAILABLE`
 * with the ioredis error as `cause`.
 */
export function toCellarError(error: unknown, operation: string, key?: string): CellarError {
  if (error instanceof CellarError) return error
  const message = error instanceof Error ? error.message : String(error)
  const about = key === undefined ? operation : `${operation} "${key}"`
  if (operation === 'increment' && key !== undefined) {
    if (message.includes('not an integer')) {
      return new InvalidArgumentError(
        `[cellar:redis] cannot increment key "${key}": its value is not an integer counter`,
        { key, code: 'E_NOT_A_NUMBER', cause: error },
      )
    }
    if (message.includes('overflow')) {
      return new InvalidArgumentError(`[cellar:redis] counter "${key}" would overflow`, {
        key,
        cause: error,
      })
    }
  }
  return new BackendUnavailableError(`[cellar:redis] ${about} failed: ${message}`, {
    key,
    cause: error,
  })
}

/** A pipeline's first failure, if any; ioredis resolves `exec()` with one `[error, reply]` per command. */
export function pipelineError(results: Array<[Error | null, unknown]> | null): Error | undefined {
  if (results === null) return new Error('pipeline was discarded')
  for (const [error] of results) if (error) return error
  return undefined
}
