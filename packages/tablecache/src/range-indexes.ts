import type { Adjustment, DbRecordsSpec, Indexes, IndexSpec } from '@cellar/core'
import { tableCacheError } from './errors.js'
import { checkBounds, Interval, subtractIntervals } from './interval.js'
import {
  keysStorageSpec,
  PRIMARY_KEY_INDEX,
  type PrimaryKey,
  primaryKeyHash,
  requestedKeys,
  requestedKeyValues,
} from './primary-key-indexes.js'
import { StorageRecordsSpec } from './records-spec.js'

/** Options of `RangeIndexes`. */
export interface RangeIndexesOptions<R, Q> {
  /** The range index's name; requests are `{ indexName, ge, lt }`. */
  indexName: string
  /** The record's score on the range index (finite). */
  score: (record: R) => number
  /** The record's primary key (also scored, by hash, on the `primaryKey` index). */
  primaryKey: (record: R) => PrimaryKey
  /** The query for rows whose score lies in any of these disjoint `[ge, lt)` intervals. */
  queryIntervals: (intervals: readonly Interval[]) => Q
  /** The query for the rows with these keys. */
  queryKeys: (keys: readonly string[]) => Q
  /**
   * The range score a key implies, when the range is over the key itself; lets key requests be
   * covered. Without it a key request is never covered (a stored miss could be outside the range).
   */
  scoreOfKey?: (key: string) => number
  /** Turns a request bound into a score (e.g. a `Date` into milliseconds). */
  bound?: (value: unknown) => number
}

// The name of the scorer's range index when its score is the numeric primary key itself (the
// same function, as `primaryKeyRangeIndexes` builds it): a storage holding records by integer
// key may then answer a short range of it by walking the keys instead of its tree. Set below.
let keyScoredIndexOf: (scorer: object) => string | undefined

interface RangeAdjustment<R, Q> extends Adjustment<R, Q> {
  readonly target: Interval
}

/**
 * A range index (a window `[ge, lt)` of it is loaded; adjust moves the window) plus a hashed
 * `primaryKey` index: a table with two indexes.
 */
export class RangeIndexes<R, Q = unknown> implements Indexes<R, Q> {
  readonly indexNames: readonly string[]
  readonly #options: RangeIndexesOptions<R, Q>

  static {
    keyScoredIndexOf = (scorer) =>
      scorer instanceof RangeIndexes && scorer.#options.score === scorer.#options.primaryKey
        ? scorer.#options.indexName
        : undefined
  }
  #loaded: Interval = new Interval(0, 0)

  constructor(options: RangeIndexesOptions<R, Q>) {
    if (options.indexName === PRIMARY_KEY_INDEX) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `the range index can't be named '${PRIMARY_KEY_INDEX}'`,
      )
    }
    this.#options = options
    this.indexNames = [options.indexName, PRIMARY_KEY_INDEX]
  }

  /** The window `[ge, lt)` of the range index that is loaded. */
  get loadedInterval(): Interval {
    return this.#loaded
  }

  /** The range score, or the key's hash on `primaryKey`. */
  score(indexName: string, record: R): number {
    if (indexName === PRIMARY_KEY_INDEX) return primaryKeyHash(this.#options.primaryKey(record))
    this.#check(indexName)
    return this.#options.score(record)
  }

  /** The record's primary key as a string. */
  primaryKey(record: R): string {
    return String(this.#options.primaryKey(record))
  }

  /** The requested interval, or the keys' hash intervals with a recheck. */
  storageRecordsSpec(spec: IndexSpec): StorageRecordsSpec<R> {
    if (spec.indexName === PRIMARY_KEY_INDEX) {
      const keys = requestedKeyValues(spec)
      if (keys === undefined) throw noKeys()
      return keysStorageSpec(keys, (record: R) => this.primaryKey(record))
    }
    this.#check(spec.indexName)
    const bound = this.#options.bound ?? Number
    return StorageRecordsSpec.between(this.#options.indexName, bound(spec.ge), bound(spec.lt))
  }

  /** `queryIntervals([interval])`, or `queryKeys(keys)`. */
  dbRecordsSpec(spec: IndexSpec): DbRecordsSpec<Q> {
    if (spec.indexName === PRIMARY_KEY_INDEX)
      return { query: this.#options.queryKeys(this.#keys(spec)) }
    return { query: this.#options.queryIntervals([this.#interval(spec)]) }
  }

  /** True when the loaded window holds the interval (or every key's implied score). */
  covers(spec: IndexSpec): boolean {
    if (spec.indexName === PRIMARY_KEY_INDEX) {
      const scoreOfKey = this.#options.scoreOfKey
      if (scoreOfKey === Number) return this.#coversNumbers(spec)
      const keys = this.#keys(spec)
      if (scoreOfKey === undefined) return false
      return keys.every((key) => {
        const score = scoreOfKey(key)
        return Number.isFinite(score) && this.#loaded.contains(score)
      })
    }
    this.#check(spec.indexName)
    const bound = this.#options.bound ?? Number
    const ge = bound(spec.ge)
    const lt = bound(spec.lt)
    checkBounds(ge, lt)
    // As `#loaded.covers(new Interval(ge, lt))`, without making the interval.
    return ge === lt || (this.#loaded.ge <= ge && lt <= this.#loaded.lt)
  }

  /** Expires the part of the window left behind; loads only the part newly entered. */
  prepareAdjustment(spec: IndexSpec): Adjustment<R, Q> {
    if (spec.indexName === PRIMARY_KEY_INDEX) {
      throw tableCacheError('E_INVALID_SPEC', `adjust RangeIndexes on '${this.#options.indexName}'`)
    }
    const target = this.#interval(spec)
    const leaving = subtractIntervals([this.#loaded], [target])
    const entering = subtractIntervals([target], [this.#loaded])
    const adjustment: RangeAdjustment<R, Q> = {
      target,
      expireSpec:
        leaving.length === 0 ? undefined : new StorageRecordsSpec(this.#options.indexName, leaving),
      newSpec:
        entering.length === 0 ? undefined : { query: this.#options.queryIntervals(entering) },
    }
    return adjustment
  }

  /** Makes the adjustment's interval the loaded window. */
  commitAdjustment(adjustment: Adjustment<R, Q>): void {
    this.#loaded = (adjustment as RangeAdjustment<R, Q>).target
  }

  // `covers` when a key's score is the key as a number: a number key is its own score (the same as
  // `Number(String(key))`), so the keys are checked without turning them into strings.
  #coversNumbers(spec: IndexSpec): boolean {
    const keys = spec.keys
    if (Array.isArray(keys)) {
      let covered = true
      let i = 0
      for (; i < keys.length; i++) {
        const key: unknown = keys[i]
        if (typeof key === 'number') covered &&= this.#holds(key)
        else if (typeof key === 'string') covered &&= this.#holds(Number(key))
        else break
      }
      if (i === keys.length) return covered
    }
    this.#keys(spec) // throws E_INVALID_SPEC on a missing list or a bad key, as for other indexes
    return false
  }

  #holds(score: number): boolean {
    return Number.isFinite(score) && this.#loaded.contains(score)
  }

  #keys(spec: IndexSpec): string[] {
    const keys = requestedKeys(spec)
    if (keys === undefined) throw noKeys()
    return keys
  }

  #interval(spec: IndexSpec): Interval {
    this.#check(spec.indexName)
    const bound = this.#options.bound ?? Number
    return new Interval(bound(spec.ge), bound(spec.lt))
  }

  #check(indexName: string): void {
    if (indexName !== this.#options.indexName) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `no index '${indexName}' (this table has '${this.#options.indexName}' and '${PRIMARY_KEY_INDEX}')`,
      )
    }
  }
}

function noKeys() {
  return tableCacheError('E_INVALID_SPEC', `'${PRIMARY_KEY_INDEX}' requests need keys here`)
}

/** Options of `primaryKeyRangeIndexes`: a numeric primary key, loaded and read by ranges. */
export type PrimaryKeyRangeOptions<R, Q> = Omit<
  RangeIndexesOptions<R, Q>,
  'indexName' | 'score' | 'scoreOfKey' | 'bound' | 'primaryKey'
> & {
  primaryKey: (record: R) => number
}

/** Range index `primaryKeyRange` over a numeric primary key; key requests inside the window are covered. */
export function primaryKeyRangeIndexes<R, Q>(
  options: PrimaryKeyRangeOptions<R, Q>,
): RangeIndexes<R, Q> {
  return new RangeIndexes({
    ...options,
    indexName: 'primaryKeyRange',
    score: options.primaryKey,
    scoreOfKey: Number,
  })
}

/** Options of `timeRangeIndexes`: a timestamp column, read by `{ indexName: 'time', ge, lt }` with Dates or ms. */
export type TimeRangeOptions<R, Q> = Omit<
  RangeIndexesOptions<R, Q>,
  'indexName' | 'score' | 'scoreOfKey' | 'bound'
> & {
  timestamp: (record: R) => Date | number
}

/** Range index `time` over a timestamp (milliseconds); an example of a window over recent rows. */
export function timeRangeIndexes<R, Q>(options: TimeRangeOptions<R, Q>): RangeIndexes<R, Q> {
  const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : Number(value))
  return new RangeIndexes({
    ...options,
    indexName: 'time',
    score: (record) => ms(options.timestamp(record)),
    bound: ms,
  })
}

export { keyScoredIndexOf }
