import type { RateLimitAlgorithm } from '@cellar/core'

/** The policy of one limiter the suite builds (milliseconds throughout). */
export interface LimiterSpec {
  readonly algorithm: RateLimitAlgorithm
  readonly limit: number
  readonly windowMs: number
  /** The first refusal blocks the key this long (0: no block). */
  readonly blockMs: number
}

/** The part of a decision the suite checks. */
export interface LimiterResultLike {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  readonly resetMs: number
  readonly retryAfterMs: number
}

/** The limiter API the suite drives (what `@cellar/rate-limiter`'s `RateLimiter` offers). */
export interface LimiterUnderTest {
  consume(key: string, points?: number): Promise<LimiterResultLike>
  remaining(key: string): Promise<number>
  availableIn(key: string): Promise<number>
  clear(key: string): Promise<void>
}

/** A child-process build of the limiter, for the cross-process test. */
export interface LimiterProcesses {
  /**
   * Absolute path of a module exporting `createLimiter(spec)`, resolving
   * `{ limiter, close() }` over the same backend as the harness.
   */
  readonly module: string
  /** Node flags of the child, e.g. `['--import', 'tsx']`. */
  readonly execArgv?: readonly string[]
  /** Extra environment of the child (server URLs). */
  readonly env?: Readonly<Record<string, string>>
}

/** What the factory of `describeLimiter` builds for one test. */
export interface LimiterHarness {
  /** A limiter over the store under test (limiters of one harness share one backend). */
  limiter(spec: LimiterSpec): LimiterUnderTest
  /** Moves the limiter's clock (where the store takes a fake one): then no test sleeps. */
  advance?(ms: number): void
  /** Reads that fake clock (given with `advance`), so tests can start mid-window. */
  now?(): number
  /** The remaining lifetime of every stored limiter entry (`ttl()` of each listed key). */
  expiries?(): Promise<ReadonlyArray<number | null | undefined>>
  /** Releases the store. */
  close(): Promise<void>
}

/** Builds a fresh harness for one test. */
export type LimiterFactory = () => LimiterHarness | Promise<LimiterHarness>

/** Options of `describeLimiter`. */
export interface LimiterSuiteOptions {
  /** Title of the outer `describe`. @default 'rate limiter' */
  readonly name?: string
  /** The algorithms the store supports. @default all three */
  readonly algorithms?: readonly RateLimitAlgorithm[]
  /** Enables the cross-process test (4 children, exactly the limit allowed in total). */
  readonly processes?: LimiterProcesses
}
