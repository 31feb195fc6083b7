import type { RateLimitAlgorithm } from '@cellar/core'

/** The policy of one limiter the suite builds (milliseconds throughout). */
export interface LimiterSpec {
  /** The algorithm under test. */
  readonly algorithm: RateLimitAlgorithm
  /** Points per window (the bucket's capacity). */
  readonly limit: number
  /** The window (the time a whole bucket takes to refill), in milliseconds. */
  readonly windowMs: number
  /** The first refusal blocks the key this long (0: no block). */
  readonly blockMs: number
}

/** The part of a decision the suite checks. */
export interface LimiterResultLike {
  /** The points were taken. */
  readonly allowed: boolean
  /** The limit the decision was made against. */
  readonly limit: number
  /** Points still available; must never be negative. */
  readonly remaining: number
  /** Milliseconds until the key is back to full; never negative. */
  readonly resetMs: number
  /** Milliseconds until the same request could pass: 0 when allowed, positive when refused. */
  readonly retryAfterMs: number
}

/** The limiter API the suite drives (what `@cellar/rate-limiter`'s `RateLimiter` offers). */
export interface LimiterUnderTest {
  /** Takes `points` (default 1); "limited" is a result, bad input a typed rejection. */
  consume(key: string, points?: number): Promise<LimiterResultLike>
  /** Points left now, never negative. */
  remaining(key: string): Promise<number>
  /** Milliseconds until one more point could pass, never negative. */
  availableIn(key: string): Promise<number>
  /** Forgets the key's state. */
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
  /**
   * The store's declared `capabilities.maxKeyLength`: a limiter key longer than this (in UTF-8
   * bytes) must be refused with `E_INVALID_KEY`, as the store refuses it. Omit when unlimited.
   */
  readonly maxKeyLength?: number
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
