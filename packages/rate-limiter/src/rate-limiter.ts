import {
  assertKey,
  type Duration,
  isCellarError,
  type RateLimitAlgorithm,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  UnsupportedError,
} from '@cellar/core'
import {
  chooseBackend,
  durationMs,
  positiveInteger,
  type RateLimiterOptions,
  type RateLimitResult,
} from './options.js'

// Per-call overrides (Laravel's methods pass the limit and decay with each call).
interface Policy {
  readonly limit: number
  readonly windowMs: number
}

const BLOCK_CACHE_MAX = 10_000

type Step = (key: string, request: RateLimitRequest) => Promise<RateLimitDecision>
type SyncBackend = Required<Pick<RateLimitBackend, 'decideSync'>>
type DecisionSlot = { -readonly [K in keyof RateLimitDecision]: RateLimitDecision[K] }

/**
 * A rate limiter over any store: the store's native atomic step where it has one, else its
 * atomic counters. `consume` resolves a result object; Laravel's `RateLimiter` methods sit
 * beside it and share the same state.
 */
export class RateLimiter {
  // The public fields are `declare`d, so each is written once, in the constructor: a class
  // field declaration would first define it as `undefined`, and V8 then treats it as mutable
  // and reads it on every call instead of folding it into the compiled consume.
  /** The algorithm every decision of this limiter uses. */
  declare readonly algorithm: RateLimitAlgorithm
  /** Points per window (the bucket's capacity). */
  declare readonly limit: number
  /** The window in milliseconds. */
  declare readonly windowMs: number
  readonly #backend: RateLimitBackend
  readonly #aligned: boolean
  readonly #blockMs: number
  readonly #insurance: RateLimiterOptions['insurance']
  readonly #whenStoreFails: NonNullable<RateLimiterOptions['whenStoreFails']>
  readonly #blocks: Map<string, number> | undefined
  readonly #storeName: string
  // The backend's method of this algorithm, chosen once; the backend itself where the store
  // decides synchronously (then a consume is one settled promise, or no promise at all).
  readonly #step: Step
  readonly #sync: SyncBackend | undefined
  // #sync when no block cache is kept: a 1-point consume then needs nothing but the backend.
  readonly #fast: SyncBackend | undefined
  // The request of a 1-point consume under the limiter's own policy, shared by every such call.
  readonly #one: RateLimitRequest
  // Where a synchronous backend may write a decision (`decideSync`'s `into`): #settle copies it
  // into the result at once, before any other call can reuse it, so no decision object is made.
  readonly #slot: DecisionSlot = {
    allowed: false,
    used: 0,
    remaining: 0,
    resetMs: 0,
    retryAfterMs: 0,
  }

  constructor(options: RateLimiterOptions) {
    this.algorithm = options.algorithm ?? 'fixed-window'
    if (!['fixed-window', 'sliding-window', 'token-bucket'].includes(this.algorithm)) {
      throw new TypeError(`[cellar:rate-limiter] unknown algorithm ${String(this.algorithm)}`)
    }
    this.limit = positiveInteger(options.limit, 'limit')
    this.windowMs = durationMs(options.window, 'window')
    this.#aligned = options.aligned ?? false
    this.#blockMs = durationMs(options.blockDuration ?? 0, 'blockDuration', true)
    this.#insurance = options.insurance
    this.#whenStoreFails = options.whenStoreFails ?? 'throw'
    this.#blocks = (options.blockCache ?? true) && this.#blockMs > 0 ? new Map() : undefined
    const store = options.store.namespace(options.name ?? 'rate-limiter')
    const backend = chooseBackend(store, this.algorithm, options.accept ?? [])
    this.#backend = backend
    this.#storeName = store.name
    const algorithm = this.algorithm
    if (algorithm === 'fixed-window') this.#step = (k, r) => backend.fixedWindow(k, r)
    else if (algorithm === 'sliding-window') this.#step = (k, r) => backend.slidingWindow(k, r)
    else this.#step = (k, r) => backend.tokenBucket(k, r)
    this.#sync =
      store.capabilities.synchronous === true && backend.decideSync !== undefined
        ? (backend as SyncBackend)
        : undefined
    this.#fast = this.#blocks === undefined ? this.#sync : undefined
    this.#one = Object.freeze(this.#request(this, 1, false))
  }

  /** Takes `points` (a positive whole number) from `key`'s allowance, atomically. */
  consume(key: string, points = 1): Promise<RateLimitResult> {
    // The common call, kept small enough for V8 to inline the backend's step into it: a 1-point
    // consume on a synchronous backend without a block cache. The backend checks the key.
    const fast = this.#fast
    if (fast === undefined || points !== 1) return this.#consume(key, points)
    try {
      return Promise.resolve(
        this.#settle(key, 1, this, fast.decideSync(this.algorithm, key, this.#one, this.#slot)),
      )
    } catch (error) {
      return this.#failed(key, 1, this, error)
    }
  }

  #consume(key: string, points: number): Promise<RateLimitResult> {
    // Not async: a consume is one promise from the backend plus one `then`, nothing more.
    const sync = this.#sync
    try {
      // A synchronous backend checks the key itself (`decideSync`'s contract), and throws
      // inside the step's `try` below; the block cache only holds keys a backend accepted.
      if (sync === undefined || points !== 1) assertKey(key)
      if (points !== 1) positiveInteger(points, 'points', key)
    } catch (error) {
      return Promise.reject(error)
    }
    const cached = this.#blocks === undefined ? undefined : this.#cachedBlock(key)
    if (cached !== undefined) return Promise.resolve(cached)
    if (sync === undefined) return this.#decide(key, points, false, this)
    const request = points === 1 ? this.#one : this.#request(this, points, false)
    let decision: RateLimitDecision
    try {
      decision = sync.decideSync(this.algorithm, key, request, this.#slot)
    } catch (error) {
      return this.#failed(key, points, this, error)
    }
    return Promise.resolve(this.#settle(key, points, this, decision))
  }

  /**
   * `consume` answered synchronously, on a store that decides in process (`MemoryStore`:
   * `capabilities.synchronous`); throws `E_UNSUPPORTED` on any other store, and throws where
   * `consume` rejects. An insurance limiter can't answer here (it resolves a promise).
   */
  consumeSync(key: string, points = 1): RateLimitResult {
    const sync = this.#sync
    if (sync === undefined) {
      throw new UnsupportedError(
        `[cellar:rate-limiter] consumeSync needs a store that decides in process (capabilities.synchronous); "${this.#storeName}" answers with promises, use consume`,
      )
    }
    // The backend checks a 1-point consume's key (see `consume`).
    if (points !== 1) {
      assertKey(key)
      positiveInteger(points, 'points', key)
    }
    const cached = this.#blocks === undefined ? undefined : this.#cachedBlock(key)
    if (cached !== undefined) return cached
    const request = points === 1 ? this.#one : this.#request(this, points, false)
    try {
      const decision = sync.decideSync(this.algorithm, key, request, this.#slot)
      return this.#settle(key, points, this, decision)
    } catch (error) {
      const open = this.#whenStoreFails
      if (!isCellarError(error, 'E_BACKEND_UNAVAILABLE') || open === 'throw') throw error
      return this.#failedResult(this, open === 'open')
    }
  }

  /** Reads `key`'s state without taking anything (`allowed`: would 1 point pass now). */
  async get(key: string): Promise<RateLimitResult> {
    assertKey(key)
    return this.#decide(key, 0, false, this)
  }

  /** Takes `points` even past the limit (an abusive request, a failed login). */
  async penalty(key: string, points = 1): Promise<RateLimitResult> {
    assertKey(key)
    positiveInteger(points, 'points', key)
    return this.#decide(key, points, true, this)
  }

  /** Gives `points` back (never below an empty window, never past a full bucket). */
  async reward(key: string, points = 1): Promise<RateLimitResult> {
    assertKey(key)
    positiveInteger(points, 'points', key)
    return this.#decide(key, -points, false, this)
  }

  /**
   * Laravel's `attempt`: one atomic hit against `max` per `decay`; runs `callback` and resolves
   * its result when allowed, `false` when limited (the callback doesn't run).
   */
  async attempt<T>(
    key: string,
    max: number,
    callback: () => T | Promise<T>,
    decay: Duration = this.windowMs,
  ): Promise<T | false> {
    assertKey(key)
    const policy = { limit: positiveInteger(max, 'max', key), windowMs: durationMs(decay, 'decay') }
    const result = await this.#decide(key, 1, false, policy)
    return result.allowed ? callback() : false
  }

  /** Laravel's `hit`: counts one attempt even past the limit; resolves the attempts so far. */
  async hit(key: string, decay: Duration = this.windowMs): Promise<number> {
    assertKey(key)
    const policy = { limit: this.limit, windowMs: durationMs(decay, 'decay') }
    let used = 0
    const result = await this.#decide(key, 1, true, policy, (n) => {
      used = n
    })
    return Math.max(used, result.limit - result.remaining)
  }

  /** Laravel's `attempts`: points counted now (past the limit too, after `hit` or `penalty`). */
  async attempts(key: string): Promise<number> {
    assertKey(key)
    let used = 0
    const result = await this.#decide(key, 0, false, this, (n) => {
      used = n
    })
    return Math.max(used, result.limit - result.remaining)
  }

  /** Laravel's `tooManyAttempts`: would one more attempt be refused under `max`. */
  async tooManyAttempts(key: string, max: number = this.limit): Promise<boolean> {
    assertKey(key)
    const policy = { limit: positiveInteger(max, 'max', key), windowMs: this.windowMs }
    return !(await this.#decide(key, 0, false, policy)).allowed
  }

  /** Laravel's `remaining` (`retriesLeft`): attempts left under `max`, never negative. */
  async remaining(key: string, max: number = this.limit): Promise<number> {
    assertKey(key)
    const policy = { limit: positiveInteger(max, 'max', key), windowMs: this.windowMs }
    return (await this.#decide(key, 0, false, policy)).remaining
  }

  /** Laravel's `availableIn`, in milliseconds: when one more attempt could pass (0: now). */
  async availableIn(key: string): Promise<number> {
    return (await this.get(key)).retryAfterMs
  }

  /** Laravel's `clear`: forgets `key`'s counters and block. */
  async clear(key: string): Promise<void> {
    assertKey(key)
    this.#blocks?.delete(key)
    await this.#backend.reset(key)
  }

  /** Laravel's `resetAttempts`: the same as `clear` (one state holds both). */
  resetAttempts(key: string): Promise<void> {
    return this.clear(key)
  }

  #request(policy: Policy, points: number, force: boolean): RateLimitRequest {
    return {
      limit: policy.limit,
      windowMs: policy.windowMs,
      points,
      force,
      aligned: this.#aligned,
      blockMs: this.#blockMs,
    }
  }

  #decide(
    key: string,
    points: number,
    force: boolean,
    policy: Policy,
    onUsed?: (used: number) => void,
  ): Promise<RateLimitResult> {
    const request =
      points === 1 && !force && policy === this ? this.#one : this.#request(policy, points, force)
    let pending: Promise<RateLimitDecision>
    try {
      pending = this.#step(key, request)
    } catch (error) {
      return this.#failed(key, points, policy, error)
    }
    return pending.then(
      (decision) => {
        onUsed?.(decision.used)
        return this.#settle(key, points, policy, decision)
      },
      (error: unknown) => this.#failed(key, points, policy, error),
    )
  }

  // The result of a decision under `policy`; a refused consume is remembered in the block cache.
  #settle(
    key: string,
    points: number,
    policy: Policy,
    decision: RateLimitDecision,
  ): RateLimitResult {
    const limit = policy.limit
    const allowed = decision.allowed
    const remaining = decision.remaining
    const resetMs = decision.resetMs
    const retryAfterMs = decision.retryAfterMs
    // Math.max(0, Math.min(limit, remaining)), Math.max(0, resetMs), Math.max(1, retryAfterMs)
    // as comparisons, with the same results for NaN and -0: V8 compiles these to less (callgrind:
    // about 20 instructions per awaited memory consume).
    const result: RateLimitResult = {
      allowed,
      limit,
      // biome-ignore lint/complexity/useMathMinMax: fewer instructions than Math.min/max here (above)
      remaining: remaining <= 0 ? 0 : remaining > limit ? limit : remaining,
      // biome-ignore lint/complexity/useMathMinMax: as above
      resetMs: resetMs <= 0 ? 0 : resetMs,
      // biome-ignore lint/complexity/useMathMinMax: as above; NaN stays NaN, as Math.max(1, NaN)
      retryAfterMs: allowed ? 0 : retryAfterMs < 1 ? 1 : retryAfterMs,
    }
    if (!allowed && points > 0 && this.#blocks !== undefined) {
      this.#remember(key, result.retryAfterMs)
    }
    return result
  }

  #failed(key: string, points: number, policy: Policy, error: unknown): Promise<RateLimitResult> {
    return isCellarError(error, 'E_BACKEND_UNAVAILABLE')
      ? this.#storeFailed(key, points, policy, error)
      : Promise.reject(error)
  }

  async #storeFailed(
    key: string,
    points: number,
    policy: Policy,
    error: unknown,
  ): Promise<RateLimitResult> {
    if (this.#insurance !== undefined && points > 0) {
      return this.#insurance.consume(key, points)
    }
    if (this.#whenStoreFails === 'throw') throw error
    return this.#failedResult(policy, this.#whenStoreFails === 'open')
  }

  #failedResult(policy: Policy, open: boolean): RateLimitResult {
    return {
      allowed: open,
      limit: policy.limit,
      remaining: open ? policy.limit : 0,
      resetMs: policy.windowMs,
      retryAfterMs: open ? 0 : policy.windowMs,
    }
  }

  #cachedBlock(key: string): RateLimitResult | undefined {
    const until = this.#blocks?.get(key)
    if (until === undefined) return undefined
    const left = until - Date.now()
    if (left <= 0) {
      this.#blocks?.delete(key)
      return undefined
    }
    return { allowed: false, limit: this.limit, remaining: 0, resetMs: left, retryAfterMs: left }
  }

  #remember(key: string, retryAfterMs: number): void {
    const blocks = this.#blocks as Map<string, number>
    if (blocks.size >= BLOCK_CACHE_MAX) {
      // Drop the oldest entry: blocks are short-lived and the store still holds the truth.
      const oldest = blocks.keys().next().value
      if (oldest !== undefined) blocks.delete(oldest)
    }
    blocks.set(key, Date.now() + retryAfterMs)
  }
}
