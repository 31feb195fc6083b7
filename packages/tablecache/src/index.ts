export type {
  CachedTableOptions,
  InvalidateOptions,
  ReadKind,
  TableCacheMetrics,
} from './cached-table.js'
export { CachedTable } from './cached-table.js'
export type { TableCacheErrorCode } from './errors.js'
export { RecordNotFoundError, TableCacheError } from './errors.js'
export { Interval } from './interval.js'
export type { LocalStorageTableOptions } from './local-storage-table.js'
export { LocalStorageTable } from './local-storage-table.js'
export type { PrimaryKey, PrimaryKeyIndexesOptions } from './primary-key-indexes.js'
export {
  ALL_INDEX,
  AllIndexes,
  PRIMARY_KEY_INDEX,
  PrimaryKeyIndexes,
  primaryKeyHash,
} from './primary-key-indexes.js'
export type {
  PrimaryKeyRangeOptions,
  RangeIndexesOptions,
  TimeRangeOptions,
} from './range-indexes.js'
export { primaryKeyRangeIndexes, RangeIndexes, timeRangeIndexes } from './range-indexes.js'
export { StorageRecordsSpec } from './records-spec.js'
