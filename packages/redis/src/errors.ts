import { backendError, type CellarError, InvalidArgumentError } from '@cellar/core'

// Replies that mean "this value is not a counter, or the result would not be one": INCRBY's own
// refusals and the increment script's range check (see scripts.ts).
const NOT_A_NUMBER = /not an integer|would overflow|CELLAR_RANGE/

/**
 * Turns whatever a command rejected with into a cellar error through core's `backendError`; an
 * increment the server refused as not a counter (or out of range) becomes `E_NOT_A_NUMBER`.
 */
export function toCellarError(error: unknown, operation: string, key?: string): CellarError {
  if (operation === 'increment' && key !== undefined && error instanceof Error) {
    if (NOT_A_NUMBER.test(error.message)) {
      const why = error.message.includes('CELLAR_RANGE')
        ? 'the result would leave the safe-integer range'
        : 'its value is not an integer counter'
      return new InvalidArgumentError(`[cellar:redis] cannot increment key "${key}": ${why}`, {
        key,
        code: 'E_NOT_A_NUMBER',
        cause: error,
      })
    }
  }
  return backendError(error, { source: 'redis', operation, key })
}

/** A pipeline's first failure, if any; ioredis resolves `exec()` with one `[error, reply]` per command. */
export function pipelineError(results: Array<[Error | null, unknown]> | null): Error | undefined {
  if (results === null) return new Error('pipeline was discarded')
  for (const [error] of results) if (error) return error
  return undefined
}
