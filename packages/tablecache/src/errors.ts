import { CellarError, type CellarErrorOptions } from '@cellar/core'

/** The codes this package raises. */
export type TableCacheErrorCode =
  | 'E_INVALID_INTERVAL'
  | 'E_INVALID_SPEC'
  | 'E_ALREADY_LOADED'
  | 'E_NOT_LOADED'
  | 'E_NOT_COVERED'
  | 'E_RECORD_NOT_FOUND'

/**
 * A tablecache error: a malformed interval or records spec, a second `load`, an operation that
 * needs a loaded table, an invalidation whose new spec is not covered, or no record to return.
 */
export class TableCacheError extends CellarError<TableCacheErrorCode> {}

/** Raised by `CachedTable#getFirstRecord` when the request matches no record. */
export class RecordNotFoundError extends CellarError<'E_RECORD_NOT_FOUND'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_RECORD_NOT_FOUND', `[cellar:tablecache] ${message}`, options)
  }
}

/** Builds a `TableCacheError` whose message carries the package prefix. */
export function tableCacheError(
  code: Exclude<TableCacheErrorCode, 'E_RECORD_NOT_FOUND'>,
  message: string,
  options: CellarErrorOptions = {},
): TableCacheError {
  return new TableCacheError(code, `[cellar:tablecache] ${message}`, options)
}
