import type {
  Interval as IntervalShape,
  StorageRecordsSpec as StorageRecordsSpecShape,
} from '@cellar/core'
import { tableCacheError } from './errors.js'
import { Interval } from './interval.js'

/**
 * Which stored records a request covers on one index: non-overlapping score intervals (adjacent
 * is fine) plus a recheck that drops candidates whose score matched by accident.
 */
export class StorageRecordsSpec<R> implements StorageRecordsSpecShape<R> {
  readonly indexName: string
  readonly scoreIntervals: readonly Interval[]
  /** Undefined when there is none: every candidate in the intervals matches. */
  readonly recheck: ((record: R) => boolean) | undefined
  readonly primaryKeys: readonly string[] | undefined

  /**
   * Throws `E_INVALID_SPEC` when two intervals overlap or the index name is empty. `primaryKeys`
   * (optional) says only records with those keys can match, so a storage may look them up.
   */
  constructor(
    indexName: string,
    scoreIntervals: readonly IntervalShape[],
    recheck?: (record: R) => boolean,
    primaryKeys?: readonly string[],
  ) {
    if (typeof indexName !== 'string' || indexName.length === 0) {
      throw tableCacheError('E_INVALID_SPEC', 'a records spec needs an index name')
    }
    const intervals = scoreIntervals.map(Interval.from)
    const sorted = [...intervals].sort((a, b) => a.ge - b.ge)
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as Interval
      const current = sorted[i] as Interval
      if (previous.intersects(current)) {
        throw tableCacheError(
          'E_INVALID_SPEC',
          `intervals ${previous} and ${current} of index '${indexName}' overlap`,
        )
      }
    }
    this.indexName = indexName
    this.scoreIntervals = Object.freeze(intervals)
    this.recheck = recheck
    this.primaryKeys = primaryKeys
    Object.freeze(this)
  }

  /** Copies a spec shape (validating it); returns a `StorageRecordsSpec` as it is. */
  static from<R>(shape: StorageRecordsSpecShape<R>): StorageRecordsSpec<R> {
    return shape instanceof StorageRecordsSpec
      ? shape
      : new StorageRecordsSpec(
          shape.indexName,
          shape.scoreIntervals,
          shape.recheck,
          shape.primaryKeys,
        )
  }

  /** A spec for every record (no recheck). */
  static everything<R>(indexName: string): StorageRecordsSpec<R> {
    return new StorageRecordsSpec<R>(indexName, [Interval.everything()])
  }

  /** True when the score lies in one of the intervals and the record passes the recheck. */
  matches(score: number, record: R): boolean {
    return (
      this.scoreIntervals.some((interval) => interval.contains(score)) &&
      (this.recheck === undefined || this.recheck(record))
    )
  }
}
