import type {
  Interval as IntervalShape,
  StorageRecordsSpec as StorageRecordsSpecShape,
} from '@cellar/core'
import { tableCacheError } from './errors.js'
import { checkBounds, Interval } from './interval.js'

// A spec's keys as the request gave them (strings or numbers), set only by this package on the
// specs it builds for a request by key: a storage that looks these keys up may skip the recheck,
// which only drops other keys. Reached through these two functions, not the public API.
let lookupKeysOf: <R>(spec: StorageRecordsSpecShape<R>) => readonly (string | number)[] | undefined
let setLookupKeys: <R>(spec: StorageRecordsSpec<R>, keys: readonly (string | number)[]) => void
// A spec of one interval [ge, lt) built by this package (`rangeStorageSpec`) keeps its bounds as
// numbers, so a storage reads them without the interval list being built: NaN on other specs.
let rangeGeOf: <R>(spec: StorageRecordsSpecShape<R>) => number
let rangeLtOf: <R>(spec: StorageRecordsSpecShape<R>) => number

/**
 * Which stored records a request covers on one index: non-overlapping score intervals (adjacent
 * is fine) plus a recheck that drops candidates whose score matched by accident.
 */
export class StorageRecordsSpec<R> implements StorageRecordsSpecShape<R> {
  readonly indexName: string
  /** Undefined when there is none: every candidate in the intervals matches. */
  readonly recheck: ((record: R) => boolean) | undefined
  #intervals: readonly Interval[] | undefined
  #compute: (() => readonly IntervalShape[]) | undefined
  #primaryKeys: readonly string[] | (() => readonly string[]) | undefined
  #lookupKeys: readonly (string | number)[] | undefined
  #ge = Number.NaN
  #lt = Number.NaN

  static {
    lookupKeysOf = (spec) => (spec instanceof StorageRecordsSpec ? spec.#lookupKeys : undefined)
    setLookupKeys = (spec, keys) => {
      spec.#lookupKeys = keys
    }
    rangeGeOf = (spec) => (spec instanceof StorageRecordsSpec ? spec.#ge : Number.NaN)
    rangeLtOf = (spec) => (spec instanceof StorageRecordsSpec ? spec.#lt : Number.NaN)
  }

  /**
   * A spec of the one interval `[ge, lt)` (bounds checked here, `E_INVALID_INTERVAL`), without a
   * recheck; its interval list is only built when read.
   */
  static between<R>(indexName: string, ge: number, lt: number): StorageRecordsSpec<R> {
    checkBounds(ge, lt)
    const spec = new StorageRecordsSpec<R>(indexName, BETWEEN)
    spec.#ge = ge
    spec.#lt = lt
    return spec
  }

  /**
   * Throws `E_INVALID_SPEC` when two intervals overlap or the index name is empty. `primaryKeys`
   * (optional) says the spec selects exactly the records with those keys that pass the recheck
   * (their scores must lie in the intervals), so a storage may look them up. `scoreIntervals` may
   * be a function computing them on first use (a request by key that a storage answers by key
   * never needs them); they are checked then. `primaryKeys` may be a function too, called once
   * on first use.
   */
  constructor(
    indexName: string,
    scoreIntervals: readonly IntervalShape[] | (() => readonly IntervalShape[]),
    recheck?: (record: R) => boolean,
    primaryKeys?: readonly string[] | (() => readonly string[]),
  ) {
    if (typeof indexName !== 'string' || indexName.length === 0) {
      throw tableCacheError('E_INVALID_SPEC', 'a records spec needs an index name')
    }
    this.indexName = indexName
    if (typeof scoreIntervals === 'function') this.#compute = scoreIntervals
    else this.#intervals = checkedIntervals(indexName, scoreIntervals)
    this.recheck = recheck
    this.#primaryKeys = primaryKeys
    Object.freeze(this)
  }

  /** For a request by key: the spec selects exactly the records with these keys that pass the recheck. */
  get primaryKeys(): readonly string[] | undefined {
    let keys = this.#primaryKeys
    if (typeof keys === 'function') {
      keys = keys()
      this.#primaryKeys = keys
    }
    return keys
  }

  /** Records whose score lies in one of these (non-overlapping) intervals are candidates. */
  get scoreIntervals(): readonly Interval[] {
    let intervals = this.#intervals
    if (intervals === undefined) {
      const compute = this.#compute as () => readonly IntervalShape[]
      // One interval, its bounds checked already: nothing can overlap.
      intervals =
        compute === BETWEEN
          ? Object.freeze([new Interval(this.#ge, this.#lt)])
          : checkedIntervals(this.indexName, compute())
      this.#intervals = intervals
      this.#compute = undefined
    }
    return intervals
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

// The interval list of `between` specs, built from their bounds (no closure per spec).
const BETWEEN = (): readonly IntervalShape[] => []

// The intervals as validated `Interval`s, frozen; throws when two of them overlap.
function checkedIntervals(
  indexName: string,
  shapes: readonly IntervalShape[],
): readonly Interval[] {
  const intervals = shapes.map(Interval.from)
  let sorted: readonly Interval[] = intervals
  for (let i = 1; i < intervals.length; i++) {
    if ((intervals[i] as Interval).ge < (intervals[i - 1] as Interval).ge) {
      sorted = [...intervals].sort((a, b) => a.ge - b.ge)
      break
    }
  }
  // Against the non-empty interval reaching furthest so far: an empty one between two overlapping
  // ones hides nothing.
  let furthest: Interval | undefined
  for (const current of sorted) {
    if (current.isEmpty) continue
    if (furthest?.intersects(current)) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `intervals ${furthest} and ${current} of index '${indexName}' overlap`,
      )
    }
    if (furthest === undefined || current.lt > furthest.lt) furthest = current
  }
  return Object.freeze(intervals)
}

export { lookupKeysOf, rangeGeOf, rangeLtOf, setLookupKeys }
