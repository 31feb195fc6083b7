// The rate limiter's atomic step as an optional store ability. A store that can decide a limit
// in one atomic step on its own clock (one Lua script on Redis, synchronously in memory) declares
// `capabilities.rateLimits` and returns a `RateLimitBackend` from `rateLimiter()`. The pure step
// functions below are the reference every native backend follows (memory runs them as they are;
// the Redis scripts are a line-by-line port). All times are integer milliseconds.

/** The three algorithms a `RateLimitBackend` decides. */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-window' | 'token-bucket'

/** One decision request; every number is a safe integer, checked by the caller. */
export interface RateLimitRequest {
  /** Points allowed per window (the bucket's capacity for the token bucket); positive. */
  readonly limit: number
  /** The window (the time to refill a whole bucket); positive milliseconds. */
  readonly windowMs: number
  /**
   * Points to take: positive consumes, negative gives points back, 0 only reads (then `allowed`
   * and `retryAfterMs` answer for a 1-point consume, and nothing is written).
   */
  readonly points: number
  /** Apply the points even when refused (a penalty, Laravel's `hit`). */
  readonly force: boolean
  /** Fixed window only: windows start at multiples of `windowMs` instead of at the first hit. */
  readonly aligned: boolean
  /** When a consume is first refused, refuse every consume for this long (0: no block). */
  readonly blockMs: number
}

/** What one atomic step decided, on the backend's clock. */
export interface RateLimitDecision {
  /** The points were taken. */
  readonly allowed: boolean
  /** Points counted against the limit now (Laravel's `attempts`). */
  readonly used: number
  /** Points still available, never negative. */
  readonly remaining: number
  /** Milliseconds until the state is back to full (0 when nothing is stored). */
  readonly resetMs: number
  /** Milliseconds until the same request could be allowed; 0 when allowed. */
  readonly retryAfterMs: number
}

/** A store's native, atomic limiter step; each call is one decision on one clock. */
export interface RateLimitBackend {
  /** Fixed window counter (anchored at the first hit, or `aligned` to the clock). */
  fixedWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision>
  /** Sliding window: the previous window's count, weighted by its overlap, plus the current. */
  slidingWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision>
  /** Token bucket as GCRA: `limit` tokens, refilled evenly over `windowMs`. */
  tokenBucket(key: string, request: RateLimitRequest): Promise<RateLimitDecision>
  /** Forgets the state and block of `key`. */
  reset(key: string): Promise<void>
  /**
   * Optional, on stores whose `capabilities.synchronous` is true: the same decision as the
   * method of `algorithm`, made and returned in process without a promise (throws instead of
   * rejecting, `E_INVALID_KEY` for a key `assertKey` refuses: the limiter leaves that check to
   * it). Lets a limiter answer with one settled promise, or synchronously. With `into` (an
   * object of the caller's, read before its next call), the backend may write the decision
   * there and return `into` instead of a new object.
   */
  decideSync?(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
    into?: { -readonly [K in keyof RateLimitDecision]: RateLimitDecision[K] },
  ): RateLimitDecision
}

/**
 * The state of one limiter key: `a`, `b`, `w` per algorithm (fixed: count, -, window end;
 * sliding: current count, previous count, current window start; token bucket: the theoretical
 * arrival time as `a + b / limit` ms) and the end of a block.
 */
export interface RateLimitState {
  readonly a: number
  readonly b: number
  readonly w: number
  readonly blockedUntil: number
}

/** A step's outcome: the new state (`undefined`: delete it), its expiry, and the decision. */
export interface RateLimitOutcome {
  readonly state: RateLimitState | undefined
  readonly expiresAt: number
  readonly decision: RateLimitDecision
}

function blockedOutcome(
  state: RateLimitState,
  expiresAt: number,
  used: number,
  remaining: number,
  now: number,
): RateLimitOutcome {
  const retryAfterMs = state.blockedUntil - now
  return {
    state,
    expiresAt,
    decision: { allowed: false, used, remaining, resetMs: expiresAt - now, retryAfterMs },
  }
}

/** The reference fixed-window step at `now`; `state` is the stored one (possibly stale). */
function fixedWindowRaw(
  state: RateLimitState | undefined,
  now: number,
  r: RateLimitRequest,
): RateLimitOutcome {
  const blockedUntil = state !== undefined && state.blockedUntil > now ? state.blockedUntil : 0
  const live = state !== undefined && state.w > now
  const end = live ? state.w : r.aligned ? now - (now % r.windowMs) + r.windowMs : now + r.windowMs
  let count = live ? state.a : 0
  if (!live && blockedUntil === 0 && r.points === 0) {
    return {
      state: undefined,
      expiresAt: now,
      decision: { allowed: true, used: 0, remaining: r.limit, resetMs: 0, retryAfterMs: 0 },
    }
  }
  if (blockedUntil > 0 && r.points > 0 && !r.force) {
    const kept = { a: count, b: 0, w: end, blockedUntil }
    return blockedOutcome(kept, Math.max(end, blockedUntil), count, 0, now)
  }
  const next = Math.max(0, count + r.points)
  const allowed = r.points <= 0 || next <= r.limit
  if (allowed || r.force) count = next
  const block = !allowed && r.blockMs > 0 && blockedUntil === 0 ? now + r.blockMs : blockedUntil
  const expiresAt = Math.max(end, block)
  const retryAfterMs = allowed ? 0 : block > now ? block - now : end - now
  return {
    state: { a: count, b: 0, w: end, blockedUntil: block },
    expiresAt,
    decision: {
      allowed,
      used: count,
      remaining: Math.max(0, r.limit - count),
      resetMs: expiresAt - now,
      retryAfterMs,
    },
  }
}

/** The reference sliding-window step at `now` (weighted previous window, see the README). */
function slidingWindowRaw(
  state: RateLimitState | undefined,
  now: number,
  r: RateLimitRequest,
): RateLimitOutcome {
  const W = r.windowMs
  const blockedUntil = state !== undefined && state.blockedUntil > now ? state.blockedUntil : 0
  let start = now - (now % W)
  let current = 0
  let previous = 0
  if (state !== undefined) {
    if (state.w >= start) {
      // Same window, or the clock stepped back into an earlier one: keep the stored window.
      start = state.w
      current = state.a
      previous = state.b
    } else if (state.w === start - W) {
      previous = state.a
    }
  }
  const elapsed = Math.min(W, Math.max(0, now - start))
  const weighted = (n: number) => Math.ceil((n * (W - elapsed)) / W)
  if (current === 0 && previous === 0 && blockedUntil === 0 && r.points === 0) {
    return {
      state: undefined,
      expiresAt: now,
      decision: { allowed: true, used: 0, remaining: r.limit, resetMs: 0, retryAfterMs: 0 },
    }
  }
  const end = start + 2 * W
  // A window without a count of its own ends with the window: the next one starts from zero.
  const stateEnd = (count: number) => (count > 0 ? end : start + W)
  if (blockedUntil > 0 && r.points > 0 && !r.force) {
    const used = weighted(previous) + current
    const kept = { a: current, b: previous, w: start, blockedUntil }
    const expiresAt = Math.max(stateEnd(current), blockedUntil)
    return blockedOutcome(kept, expiresAt, used, Math.max(0, r.limit - used), now)
  }
  const allowed = r.points <= 0 || weighted(previous) + current + r.points <= r.limit
  if (allowed || r.force) current = Math.max(0, current + r.points)
  const block = !allowed && r.blockMs > 0 && blockedUntil === 0 ? now + r.blockMs : blockedUntil
  const used = weighted(previous) + current
  let retryAfterMs = 0
  if (!allowed) {
    if (block > now) retryAfterMs = block - now
    else if (current + r.points <= r.limit) {
      // Later in this window, once the previous window's weight has shrunk enough.
      const room = r.limit - current - r.points
      retryAfterMs = Math.max(1, Math.ceil(W - (room * W) / previous) - elapsed)
    } else if (r.points > r.limit) retryAfterMs = 2 * W - elapsed
    else {
      // In the next window, where this window's count becomes the weighted previous one.
      const room = r.limit - r.points
      const at = current > room ? Math.ceil(W - (room * W) / current) : 0
      retryAfterMs = W - elapsed + at
    }
  }
  const expiresAt = Math.max(stateEnd(current), block)
  return {
    state: { a: current, b: previous, w: start, blockedUntil: block },
    expiresAt,
    decision: {
      allowed,
      used,
      remaining: Math.max(0, r.limit - used),
      resetMs: Math.max(0, expiresAt - now),
      retryAfterMs,
    },
  }
}

/** The reference token-bucket (GCRA) step at `now`, in exact integer arithmetic. */
function tokenBucketRaw(
  state: RateLimitState | undefined,
  now: number,
  r: RateLimitRequest,
): RateLimitOutcome {
  const { limit: L, windowMs: W } = r
  const blockedUntil = state !== undefined && state.blockedUntil > now ? state.blockedUntil : 0
  // The theoretical arrival time is a + b / L milliseconds, 0 <= b < L; never before now.
  let a = now
  let b = 0
  if (state !== undefined && (state.a > now || (state.a === now && state.b > 0))) {
    a = state.a
    b = state.b
  }
  const tokens = (ta: number, tb: number) =>
    Math.min(L, Math.max(0, Math.floor(((now + W - ta) * L - tb) / W)))
  if (a === now && b === 0 && blockedUntil === 0 && r.points === 0) {
    return {
      state: undefined,
      expiresAt: now,
      decision: { allowed: true, used: 0, remaining: L, resetMs: 0, retryAfterMs: 0 },
    }
  }
  const tatEnd = (ta: number, tb: number) => ta + (tb > 0 ? 1 : 0)
  if (blockedUntil > 0 && r.points > 0 && !r.force) {
    const left = tokens(a, b)
    const kept = { a, b, w: 0, blockedUntil }
    return blockedOutcome(kept, Math.max(tatEnd(a, b), blockedUntil), L - left, left, now)
  }
  let na = a
  let nb = b + r.points * W
  na += Math.floor(nb / L)
  nb = ((nb % L) + L) % L
  if (na < now) {
    na = now
    nb = 0
  }
  // Allowed when the new arrival time is at most one window ahead: na + nb / L <= now + W.
  const allowed = r.points <= 0 || na < now + W || (na === now + W && nb === 0)
  if (allowed || r.force) {
    a = na
    b = nb
  }
  const block = !allowed && r.blockMs > 0 && blockedUntil === 0 ? now + r.blockMs : blockedUntil
  let retryAfterMs = 0
  if (!allowed) retryAfterMs = block > now ? block - now : tatEnd(na - W, nb) - now
  const left = tokens(a, b)
  const expiresAt = Math.max(tatEnd(a, b), block)
  const idle = expiresAt <= now
  return {
    state: idle ? undefined : { a, b, w: 0, blockedUntil: block },
    expiresAt,
    decision: {
      allowed,
      used: L - left,
      remaining: left,
      resetMs: Math.max(0, expiresAt - now),
      retryAfterMs,
    },
  }
}

/** A reference step: the stored state (possibly stale), the clock reading, the request. */
export type RateLimitStep = (
  state: RateLimitState | undefined,
  now: number,
  r: RateLimitRequest,
) => RateLimitOutcome

// A read (0 points) reports the state, plus what a 1-point consume would be told right now.
function withPeek(step: RateLimitStep): RateLimitStep {
  return (state, now, r) => {
    const read = step(state, now, r)
    if (r.points !== 0 || read.state === undefined) return read
    const probe = step(state, now, { ...r, points: 1, force: false, blockMs: 0 }).decision
    return {
      ...read,
      decision: { ...read.decision, allowed: probe.allowed, retryAfterMs: probe.retryAfterMs },
    }
  }
}

/** The reference fixed-window step at `now`; `state` is the stored one (possibly stale). */
export const fixedWindowStep: RateLimitStep = withPeek(fixedWindowRaw)
/** The reference sliding-window step at `now` (weighted previous window, see the README). */
export const slidingWindowStep: RateLimitStep = withPeek(slidingWindowRaw)
/** The reference token-bucket (GCRA) step at `now`, in exact integer arithmetic. */
export const tokenBucketStep: RateLimitStep = withPeek(tokenBucketRaw)

/** The reference step of `algorithm`. */
export function rateLimitStep(
  algorithm: RateLimitAlgorithm,
  state: RateLimitState | undefined,
  now: number,
  request: RateLimitRequest,
): RateLimitOutcome {
  if (algorithm === 'fixed-window') return fixedWindowStep(state, now, request)
  if (algorithm === 'sliding-window') return slidingWindowStep(state, now, request)
  return tokenBucketStep(state, now, request)
}
