import { CellarError, type CellarErrorOptions } from '@cellar/core'

/** A limiter option or call argument broke a rule: points, limit, window, block duration. */
export class InvalidLimitError extends CellarError<'E_INVALID_LIMIT'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_INVALID_LIMIT', message, options)
  }
}

/**
 * The store can't limit atomically (no native step, no atomic counters) or may evict limiter
 * state, and the caller did not accept that by name (`accept: ['non-atomic' | 'evicting']`).
 */
export class UnsafeStoreError extends CellarError<'E_UNSAFE_STORE'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_UNSAFE_STORE', message, options)
  }
}
