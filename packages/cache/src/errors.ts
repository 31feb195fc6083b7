import { CellarError } from '@cellar/core'

/** `cache.store(name)` (or `CACHE_STORE`) named a store the configuration does not have. */
export class UnknownStoreError extends CellarError<'E_UNKNOWN_STORE'> {
  /** The names that are configured. */
  readonly configured: readonly string[]

  constructor(message: string, configured: readonly string[]) {
    super('E_UNKNOWN_STORE', message)
    this.configured = configured
  }
}

/** A loader ran past its `hardTimeout`. */
export class LoaderTimeoutError extends CellarError<'E_LOADER_TIMEOUT'> {
  constructor(message: string, key: string) {
    super('E_LOADER_TIMEOUT', message, { key })
  }
}
