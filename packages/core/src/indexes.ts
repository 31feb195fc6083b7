// Protocols for table caching (implemented by @cellar/tablecache, storage by stores such as
// @cellar/redis, DB access by @cellar/knex). Core only defines the shapes so that those
// packages can meet without depending on each other.

/** A half-open score interval `[ge, lt)` on one index. */
export interface Interval {
  readonly ge: number
  readonly lt: number
}

/** Which stored records an index request covers: score intervals plus a recheck. */
export interface StorageRecordsSpec<R> {
  /** The index whose scores the intervals refer to. */
  readonly indexName: string
  /** Records whose score lies in any interval are candidates. */
  readonly scoreIntervals: readonly Interval[]
  /** Filters candidates whose score matched but which are not part of the request. */
  readonly recheck?: (record: R) => boolean
}

/** A query against the source of truth, in the terms the `DbAccess` understands. */
export interface DbRecordsSpec<Q = unknown> {
  readonly query: Q
}

/** A planned change of what the cache holds: what to expire and what to load instead. */
export interface Adjustment<R, Q = unknown> {
  /** Stored records matching this spec leave the cache (`undefined`: none). */
  readonly expireSpec: StorageRecordsSpec<R> | undefined
  /** Records the DB returns for this spec enter the cache (`undefined`: none). */
  readonly newSpec: DbRecordsSpec<Q> | undefined
}

/** Arguments of one index request, e.g. `{ ge: 10, lt: 20 }` for a range index. */
export type IndexSpec = Readonly<Record<string, unknown>>

/**
 * The index definitions of one cached table: how records score on each index, which part of
 * each index is loaded, and how a request maps to storage and DB specs.
 */
export interface Indexes<R, Q = unknown> {
  /** The names of every index; each record has one score per index. */
  readonly indexNames: readonly string[]
  /** The record's score on the index (a finite number). */
  score(indexName: string, record: R): number
  /** The record's primary key, unique within the table. */
  primaryKey(record: R): string
  /** The storage spec that serves `spec` on `indexName`. */
  storageRecordsSpec(indexName: string, spec: IndexSpec): StorageRecordsSpec<R>
  /** The DB query that answers `spec` on `indexName`. */
  dbRecordsSpec(indexName: string, spec: IndexSpec): DbRecordsSpec<Q>
  /** Resolves true if what is loaded covers every record `spec` could match. */
  covers(indexName: string, spec: IndexSpec): boolean
  /** Plans replacing what is loaded with what `spec` asks for. */
  prepareAdjustment(indexName: string, spec: IndexSpec): Adjustment<R, Q>
  /** Records that the adjustment has been applied (updates what `covers` answers). */
  commitAdjustment(adjustment: Adjustment<R, Q>): void
  /** Lets the indexes learn from a record entering the cache (e.g. widen bounds). */
  observe(record: R): void
}

/** Reads records from the source of truth. */
export interface DbAccess<R, Q = unknown> {
  /** Streams the records the spec selects, without loading the whole result in memory. */
  getRecords(spec: DbRecordsSpec<Q>): AsyncIterable<R>
}

/**
 * Where cached records live: one score per index, range reads by score, and a scratch space
 * that stages puts and deletes and merges them at once, so readers see before or after.
 */
export interface StorageTable<R> {
  /** A name unique among the tables sharing a backend. */
  readonly name: string
  /** Removes every record and anything staged. */
  clear(): Promise<void>
  /** Stores (or replaces, by primary key) a record. */
  putRecord(record: R): Promise<void>
  /** Resolves the record with this primary key, or undefined. */
  getRecord(primaryKey: string): Promise<R | undefined>
  /** Streams the records the spec covers (after its recheck). */
  getRecords(spec: StorageRecordsSpec<R>): AsyncIterable<R>
  /** Removes the records the spec covers; resolves how many. */
  deleteRecords(spec: StorageRecordsSpec<R>): Promise<number>
  /** Stages a put, invisible to readers until `scratchMerge`. */
  scratchPutRecord(record: R): Promise<void>
  /** Stages the removal of the records the spec covers; resolves how many are staged. */
  scratchDiscardRecords(spec: StorageRecordsSpec<R>): Promise<number>
  /** Applies every staged put and removal at once. */
  scratchMerge(): Promise<void>
}
