import {
  type Duration,
  parseDuration,
  type RateLimitAlgorithm,
  type RateLimitBackend,
  type Store,
  UnsupportedError,
} from '@cellar/core'
import { InvalidLimitError, UnsafeStoreError } from './errors.js'
import { CounterRateLimitBackend } from './fallback.js'

/** What `consume` tells: never a rejection for "limited" (rejections are errors). */
export interface RateLimitResult {
  /** The points were taken. */
  readonly allowed: boolean
  /** The limit this decision was made against. */
  readonly limit: number
  /** Points still available, never negative. */
  readonly remaining: number
  /** Milliseconds until the key is back to its full allowance. */
  readonly resetMs: number
  /** Milliseconds until the same request could pass; 0 when allowed. */
  readonly retryAfterMs: number
}

/** What a caller accepts by name when the store can't give the usual guarantees. */
export type LimiterAcceptance = 'non-atomic' | 'evicting'

/** What to do when the store fails and no insurance limiter answers. */
export type StoreFailurePolicy = 'throw' | 'open' | 'closed'

/** Options of `new RateLimiter(...)`. */
export interface RateLimiterOptions {
  /** Where the limiter keeps its state (in a namespace of it, see `name`). */
  readonly store: Store<unknown>
  /** @default 'fixed-window' */
  readonly algorithm?: RateLimitAlgorithm
  /** Points per window (the bucket's capacity for the token bucket). */
  readonly limit: number
  /** The window (the time a whole bucket takes to refill); whole milliseconds, positive. */
  readonly window: Duration
  /** Fixed window only: windows start at multiples of `window` on the clock. @default false */
  readonly aligned?: boolean
  /** The first refusal blocks the key this long; later hits don't extend it. @default 0 */
  readonly blockDuration?: Duration
  /** The store namespace of this limiter; two limiters with one name share their counters. */
  readonly name?: string
  /** Asked instead of the store when the store fails (typically an in-memory limiter). */
  readonly insurance?: { consume(key: string, points?: number): Promise<RateLimitResult> }
  /** Without insurance, a failing store: rejects (`'throw'`), lets through, or refuses. */
  readonly whenStoreFails?: StoreFailurePolicy
  /** Accept a store without atomic counters (`'non-atomic'`) or one that may evict state. */
  readonly accept?: readonly LimiterAcceptance[]
  /** Remember blocks in this process, so a blocked key costs no round trip. @default true */
  readonly blockCache?: boolean
}

/** A positive safe integer, or `E_INVALID_LIMIT` naming `what`. */
export function positiveInteger(value: unknown, what: string, key?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    const about = key === undefined ? '' : ` for key "${key.slice(0, 64)}"`
    throw new InvalidLimitError(
      `[cellar:rate-limiter] ${what}${about} must be a positive whole number, got ${String(value)}`,
      { key },
    )
  }
  return value
}

/** A duration in whole positive milliseconds (`0` allowed when `zero`). */
export function durationMs(value: Duration, what: string, zero = false): number {
  const ms = parseDuration(value, what)
  if (zero && ms === 0) return 0
  return positiveInteger(ms, what)
}

/** The store's native step, else the counter fallback, else a refusal naming what is missing. */
export function chooseBackend(
  store: Store<unknown>,
  algorithm: RateLimitAlgorithm,
  accept: readonly LimiterAcceptance[],
): RateLimitBackend {
  if (store.capabilities.rateLimits === true && store.rateLimiter !== undefined) {
    return store.rateLimiter()
  }
  if (!store.capabilities.atomicCounters && !accept.includes('non-atomic')) {
    throw new UnsafeStoreError(
      `[cellar:rate-limiter] store "${store.name}" has neither a native limiter step nor atomic counters; concurrent requests could pass the limit. Pass accept: ['non-atomic'] to use it anyway`,
    )
  }
  if (store.capabilities.evicts && !accept.includes('evicting')) {
    throw new UnsafeStoreError(
      `[cellar:rate-limiter] store "${store.name}" may evict entries, which would forget a limit early. Pass accept: ['evicting'] to use it anyway`,
    )
  }
  if (algorithm === 'token-bucket') {
    throw new UnsupportedError(
      `[cellar:rate-limiter] the token bucket needs a store with a native limiter step; "${store.name}" has none (use a fixed or sliding window)`,
    )
  }
  return new CounterRateLimitBackend(store)
}
