import type { Interval as IntervalShape } from '@cellar/core'
import { tableCacheError } from './errors.js'

const scratch = new Float64Array(1)
const bits = new BigInt64Array(scratch.buffer)

/** The smallest double greater than `value` (`value` finite). */
function nextUp(value: number): number {
  if (value === 0) return Number.MIN_VALUE
  scratch[0] = value
  bits[0] = (bits[0] as bigint) + (value > 0 ? 1n : -1n)
  return scratch[0] as number
}

/** Throws `E_INVALID_INTERVAL` unless `[ge, lt)` is an interval: both numbers, neither NaN, `ge <= lt`. */
export function checkBounds(ge: number, lt: number): void {
  if (typeof ge !== 'number' || typeof lt !== 'number' || Number.isNaN(ge) || Number.isNaN(lt)) {
    throw tableCacheError(
      'E_INVALID_INTERVAL',
      `interval bounds must be numbers, got [${ge}, ${lt})`,
    )
  }
  if (ge > lt) {
    throw tableCacheError('E_INVALID_INTERVAL', `interval [${ge}, ${lt}) has ge > lt`)
  }
}

/** A half-open score interval `[ge, lt)`; empty when `ge === lt`, and then it holds nothing. */
export class Interval implements IntervalShape {
  readonly ge: number
  readonly lt: number

  /** Throws `E_INVALID_INTERVAL` when a bound is NaN or `ge > lt`. */
  constructor(ge: number, lt: number) {
    checkBounds(ge, lt)
    this.ge = ge
    this.lt = lt
    Object.freeze(this)
  }

  /** The interval holding every finite score. */
  static everything(): Interval {
    return new Interval(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)
  }

  /** The smallest interval holding `value` and nothing else (`value` finite). */
  static onlyContaining(value: number): Interval {
    if (!Number.isFinite(value)) {
      throw tableCacheError(
        'E_INVALID_INTERVAL',
        `onlyContaining needs a finite score, got ${value}`,
      )
    }
    return new Interval(value, nextUp(value))
  }

  /** Copies an `{ ge, lt }` shape into a validated interval. */
  static from(shape: IntervalShape): Interval {
    return shape instanceof Interval ? shape : new Interval(shape.ge, shape.lt)
  }

  /** True when the interval holds no score. */
  get isEmpty(): boolean {
    return this.ge === this.lt
  }

  /** True when `ge <= score < lt`. */
  contains(score: number): boolean {
    return this.ge <= score && score < this.lt
  }

  /** True when some score lies in both; never for an empty interval, nor for adjacent ones. */
  intersects(other: IntervalShape): boolean {
    if (this.ge === this.lt || other.ge === other.lt) return false
    return this.ge < other.lt && other.ge < this.lt
  }

  /** True when every score of `other` lies in this one; an empty `other` is always covered. */
  covers(other: IntervalShape): boolean {
    if (other.ge === other.lt) return true
    return this.ge <= other.ge && other.lt <= this.lt
  }

  /** `[ge, lt)`, for messages. */
  toString(): string {
    return `[${this.ge}, ${this.lt})`
  }
}

/** Sorts intervals, drops empty ones and joins touching or overlapping ones. */
export function normalizeIntervals(intervals: readonly IntervalShape[]): Interval[] {
  const sorted = intervals
    .map(Interval.from)
    .filter((interval) => !interval.isEmpty)
    .sort((a, b) => a.ge - b.ge || a.lt - b.lt)
  const out: Interval[] = []
  for (const interval of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && interval.ge <= last.lt) {
      if (interval.lt > last.lt) out[out.length - 1] = new Interval(last.ge, interval.lt)
    } else {
      out.push(interval)
    }
  }
  return out
}

/** The parts of `from` that `minus` does not hold, normalized. */
export function subtractIntervals(
  from: readonly IntervalShape[],
  minus: readonly IntervalShape[],
): Interval[] {
  let rest = normalizeIntervals(from)
  for (const cut of normalizeIntervals(minus)) {
    const next: Interval[] = []
    for (const piece of rest) {
      if (!piece.intersects(cut)) {
        next.push(piece)
        continue
      }
      if (piece.ge < cut.ge) next.push(new Interval(piece.ge, cut.ge))
      if (cut.lt < piece.lt) next.push(new Interval(cut.lt, piece.lt))
    }
    rest = next
  }
  return rest
}
