// Protocols for table caching (implemented by @cellar/tablecache, storage by stores such as
// @cellar/redis, DB access by @cellar/knex). Core only defines the shapes so that those
// packages can meet without depending on each other.

/** A half-open score interval `[ge, lt)` on one index; empty when `ge === lt`. */
export interface Interval {
  readonly ge: number
  readonly lt: number
}

/** Which stored records a request covers on one index: score intervals plus a recheck. */
export interface StorageRecordsSpec<R> {
  /** The index whose scores the intervals refer to. */
  readonly indexName: string
  /** Records whose score lies in one of these (non-overlapping) intervals are candidates. */
  readonly scoreIntervals: readonly Interval[]
  /** Returns false for a candidate whose score matched but which is not part of the request. */
  readonly recheck?: (record: R) => boolean
  /**
   * Optional, for a request by key: the spec selects exactly the stored records with these
   * primary keys that pass the recheck. Whoever builds the spec makes its intervals hold those
   * records' scores and its recheck drop every other key, so a storage may look the keys up
   * directly, with no score check, or walk the intervals: the result is the same. (Reading
   * `scoreIntervals` may compute them.)
   */
  readonly primaryKeys?: readonly string[]
}

/** A query against the source of truth, in the terms the `DbAccess` understands. */
export interface DbRecordsSpec<Q = unknown> {
  readonly query: Q
}

/** A request on one index, e.g. `{ indexName: 'createdAt', ge: 10, lt: 20 }`. */
export interface IndexSpec {
  /** The index the request is for. */
  readonly indexName: string
  readonly [argument: string]: unknown
}

/** A planned change of what the cache holds: what to expire and what to load instead. */
export interface Adjustment<R, Q = unknown> {
  /** Stored records matching this spec leave the cache (`undefined`: none). */
  readonly expireSpec: StorageRecordsSpec<R> | undefined
  /** Records the DB returns for this spec enter the cache (`undefined`: none). */
  readonly newSpec: DbRecordsSpec<Q> | undefined
  /** Called once for each stored record the adjustment expires. */
  observeExpired?(record: R): void
  /** Called once for each record the adjustment loads. */
  observeLoaded?(record: R): void
}

/** How records score on each index and what identifies them: all a storage table needs. */
export interface RecordScorer<R> {
  /** The names of every index; each record has one score per index. */
  readonly indexNames: readonly string[]
  /** The record's score on the index (a finite number). */
  score(indexName: string, record: R): number
  /** The record's primary key, unique within the table. */
  primaryKey(record: R): string
}

/**
 * The index definitions of one cached table: how records score on each index, which part of
 * each index is loaded, and how a request maps to storage and DB specs.
 */
export interface Indexes<R, Q = unknown> extends RecordScorer<R> {
  /** The storage spec that serves `spec` from storage. */
  storageRecordsSpec(spec: IndexSpec): StorageRecordsSpec<R>
  /** The DB query that answers `spec`. */
  dbRecordsSpec(spec: IndexSpec): DbRecordsSpec<Q>
  /** Returns true if what is loaded certainly holds every record `spec` could match. */
  covers(spec: IndexSpec): boolean
  /** Plans replacing what is loaded with what `spec` asks for; changes nothing yet. */
  prepareAdjustment(spec: IndexSpec): Adjustment<R, Q>
  /** Records that a prepared adjustment has been applied (updates what `covers` answers). */
  commitAdjustment(adjustment: Adjustment<R, Q>): void
}

/** Reads records from the source of truth. */
export interface DbAccess<R, Q = unknown> {
  /** Streams the records the spec selects, without loading the whole result in memory. */
  getRecords(spec: DbRecordsSpec<Q>): AsyncIterable<R>
}

/**
 * Where cached records live: one score per index, range reads by score, and a scratch space
 * that stages puts and discards and merges them at once, so readers see before or after.
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
  /**
   * Resolves the records whose score lies in the spec's intervals and that pass its recheck, as
   * one view pinned when the call is made: a merge that starts later is not seen, not even partly.
   */
  getRecords(spec: StorageRecordsSpec<R>): Promise<readonly R[]>
  /**
   * True when the table answers reads in-process and has `getRecordsSync`; declared, never
   * sniffed.
   */
  readonly synchronous?: boolean
  /**
   * `getRecords` without a promise: the same records, from the view current at the call; present
   * when `synchronous` is true.
   */
  getRecordsSync?(spec: StorageRecordsSpec<R>): readonly R[]
  /** Removes exactly the records `getRecords(spec)` would resolve; resolves how many. */
  deleteRecords(spec: StorageRecordsSpec<R>): Promise<number>
  /** Stages a put (undoing a staged discard of the same key), invisible until `scratchMerge`. */
  scratchPutRecord(record: R): Promise<void>
  /** Stages the removal of the records the spec covers (still visible until `scratchMerge`); resolves how many. */
  scratchDiscardRecords(spec: StorageRecordsSpec<R>): Promise<number>
  /**
   * Applies every staged put and removal at once: a reader sees all of them or none. `onVisible`
   * runs exactly once, synchronously in the step that makes them visible (also when nothing was
   * staged), so a caller can switch its own state in that same step; not called if the merge fails
   * before that step.
   */
  scratchMerge(onVisible?: () => void): Promise<void>
}
