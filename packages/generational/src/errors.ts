import { CellarError, type CellarErrorOptions } from '@cellar/core'

/** The codes this package raises (besides core's `E_UNSUPPORTED` and `E_INVALID_ARGUMENT`). */
export type GenerationalErrorCode =
  | 'E_EVICTING_COUNTER_STORE'
  | 'E_INVALID_DEPENDENCY'
  | 'E_INVALIDATION_FAILED'

/**
 * A generational error: a counter store that may lose counters (`E_EVICTING_COUNTER_STORE`), a
 * malformed dependency spec (`E_INVALID_DEPENDENCY`), or a bump that failed after its write had
 * committed (`E_INVALIDATION_FAILED`, reported through events, with the store's error as cause).
 */
export class GenerationalError extends CellarError<GenerationalErrorCode> {}

/** Builds a `GenerationalError` whose message carries the package prefix. */
export function generationalError(
  code: GenerationalErrorCode,
  message: string,
  options: CellarErrorOptions = {},
): GenerationalError {
  return new GenerationalError(code, `[cellar:generational] ${message}`, options)
}
