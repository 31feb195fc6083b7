import {
  assertKey,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  SteppedRateLimitBackend,
} from '@cellar/core'

// One key's state, mutable: a step rewrites it in place (no new object, no re-insert), and it
// is itself the `RateLimitState` the reference step reads.
class Entry implements RateLimitState {
  a: number
  b: number
  w: number
  blockedUntil: number
  expiresAt: number

  constructor(state: RateLimitState, expiresAt: number) {
    this.a = state.a
    this.b = state.b
    this.w = state.w
    this.blockedUntil = state.blockedUntil
    this.expiresAt = expiresAt
  }
}

// Every this many steps, a bounded pass drops expired entries (see `#sweep`).
const SWEEP_EVERY = 1024
const SWEEP_SCAN = 256

/** The entries of one store prefix, keyed by the caller's key as it is. */
export type RateLimitScope = Map<string, Entry>

/**
 * Limiter state of one root store, apart from the LRU (so eviction never forgets a window).
 * Each step runs synchronously before it resolves: atomic within the process, on one clock.
 * Entries live in one map per store prefix, keyed by the caller's own key string: keys of two
 * prefixes can't alias, and no key is built per call (a fresh concatenated string would be
 * flattened and hashed on every lookup, which cost more than the whole step).
 */
export class MemoryRateLimits {
  readonly #scopes = new Map<string, RateLimitScope>()
  readonly #now: () => number
  #steps = 0
  #scopeCursor: MapIterator<RateLimitScope> | undefined
  #cursor: MapIterator<[string, Entry]> | undefined
  #cursorScope: RateLimitScope | undefined

  constructor(now: () => number) {
    this.#now = now
  }

  /** The entries of `prefix` (created on first use, shared by every handle on that prefix). */
  scope(prefix: string): RateLimitScope {
    let scope = this.#scopes.get(prefix)
    if (scope === undefined) {
      scope = new Map()
      this.#scopes.set(prefix, scope)
    }
    return scope
  }

  /** One decision on `key` of `scope` (`E_INVALID_KEY` for a key that fails `assertKey`). */
  step(
    algorithm: RateLimitAlgorithm,
    scope: RateLimitScope,
    key: string,
    request: RateLimitRequest,
  ): RateLimitDecision {
    const now = this.#now()
    // Before the lookup: a sweep may drop this key's (expired) entry.
    if (++this.#steps % SWEEP_EVERY === 0) this.#sweep(now)
    const entry = scope.get(key)
    if (entry !== undefined) {
      // Only a checked key is ever inserted (below), so a found entry proves the key valid.
      const fast =
        algorithm === 'fixed-window'
          ? fixedWindowInPlace(entry, now, request)
          : algorithm === 'sliding-window'
            ? slidingWindowInPlace(entry, now, request)
            : tokenBucketInPlace(entry, now, request)
      if (fast !== undefined) return fast
    } else assertKey(key)
    const live = entry !== undefined && entry.expiresAt > now ? entry : undefined
    const outcome = rateLimitStep(algorithm, live, now, request)
    // A read (0 points) changes nothing worth keeping.
    if (request.points !== 0) {
      const state = outcome.state
      if (state !== undefined && outcome.expiresAt > now) {
        if (entry === undefined) scope.set(key, new Entry(state, outcome.expiresAt))
        else {
          entry.a = state.a
          entry.b = state.b
          entry.w = state.w
          entry.blockedUntil = state.blockedUntil
          entry.expiresAt = outcome.expiresAt
        }
      } else if (entry !== undefined) {
        scope.delete(key)
      }
    }
    return outcome.decision
  }

  /** Forgets every entry (the root store closed); handles keep their (now empty) scopes. */
  clear(): void {
    for (const scope of this.#scopes.values()) scope.clear()
    this.#scopeCursor = undefined
    this.#cursor = undefined
    this.#cursorScope = undefined
  }

  // Scans the next SWEEP_SCAN entries from where the last pass stopped, scope after scope, so
  // every entry is visited in turn however many live ones come first.
  #sweep(now: number): void {
    for (let scanned = 0; scanned < SWEEP_SCAN; scanned++) {
      if (this.#cursor === undefined || this.#cursorScope === undefined) {
        this.#scopeCursor ??= this.#scopes.values()
        const scope = this.#scopeCursor.next()
        if (scope.done === true) {
          this.#scopeCursor = undefined
          return
        }
        this.#cursorScope = scope.value
        this.#cursor = scope.value.entries()
      }
      const next = this.#cursor.next()
      if (next.done === true) {
        this.#cursor = undefined
        continue
      }
      if (next.value[1].expiresAt <= now) this.#cursorScope.delete(next.value[0])
    }
  }
}

/** One store's view of the limiter state: keys scoped under its prefix, refused once closed. */
export class ScopedRateLimitBackend extends SteppedRateLimitBackend {
  readonly #limits: MemoryRateLimits
  readonly #scope: RateLimitScope
  readonly #open: () => void

  constructor(limits: MemoryRateLimits, prefix: string, open: () => void) {
    super()
    this.#limits = limits
    this.#scope = limits.scope(prefix)
    this.#open = open
  }

  async reset(key: string): Promise<void> {
    this.#open()
    assertKey(key)
    this.#scope.delete(key)
  }

  /** The decision of `algorithm`, made and returned synchronously (throws instead of rejecting). */
  decideSync(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): RateLimitDecision {
    this.#open()
    // The key is checked by the step on a miss (a hit proves it valid).
    return this.#limits.step(algorithm, this.#scope, key, request)
  }

  protected decide(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    try {
      return Promise.resolve(this.decideSync(algorithm, key, request))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/**
 * Core's fixed-window step for the common consume (points taken from a live window with no
 * block in force, and no block to start), made on the entry in place: the same decision and
 * state as `fixedWindowStep`, without its state, outcome and probe objects. `undefined` for
 * anything else, which the reference step decides.
 */
function fixedWindowInPlace(
  entry: Entry,
  now: number,
  r: RateLimitRequest,
): RateLimitDecision | undefined {
  if (r.points <= 0 || r.force || entry.w <= now || entry.expiresAt <= now) return undefined
  if (entry.blockedUntil > now) return undefined
  const next = entry.a + r.points
  // Without a block, the state expires at the window's end.
  const resetMs = entry.w - now
  if (next <= r.limit) {
    entry.a = next
    entry.b = 0
    entry.blockedUntil = 0
    entry.expiresAt = entry.w
    return { allowed: true, used: next, remaining: r.limit - next, resetMs, retryAfterMs: 0 }
  }
  if (r.blockMs > 0) return undefined
  const used = entry.a
  entry.b = 0
  entry.blockedUntil = 0
  entry.expiresAt = entry.w
  return {
    allowed: false,
    used,
    remaining: Math.max(0, r.limit - used),
    resetMs,
    retryAfterMs: resetMs,
  }
}

/**
 * Core's sliding-window step for an allowed consume (points taken, no block in force, no force),
 * made on the live entry in place: the same decision and state as `slidingWindowStep`, with the
 * same arithmetic. `undefined` for anything else (a refusal included), which the reference
 * step decides.
 */
function slidingWindowInPlace(
  entry: Entry,
  now: number,
  r: RateLimitRequest,
): RateLimitDecision | undefined {
  if (r.points <= 0 || r.force || entry.expiresAt <= now || entry.blockedUntil > now) {
    return undefined
  }
  const W = r.windowMs
  let start = now - (now % W)
  let current = 0
  let previous = 0
  if (entry.w >= start) {
    start = entry.w
    current = entry.a
    previous = entry.b
  } else if (entry.w === start - W) previous = entry.a
  const elapsed = Math.min(W, Math.max(0, now - start))
  const weighted = Math.ceil((previous * (W - elapsed)) / W)
  if (weighted + current + r.points > r.limit) return undefined
  current += r.points
  const used = weighted + current
  const end = start + 2 * W
  entry.a = current
  entry.b = previous
  entry.w = start
  entry.blockedUntil = 0
  entry.expiresAt = end
  return {
    allowed: true,
    used,
    remaining: Math.max(0, r.limit - used),
    resetMs: Math.max(0, end - now),
    retryAfterMs: 0,
  }
}

/**
 * Core's token-bucket (GCRA) step for an allowed consume, on the entry in place: the same
 * decision and state as `tokenBucketStep`. A stale entry needs no special case: the reference
 * reads it like no state at all (its arrival time and any block lie in the past).
 */
function tokenBucketInPlace(
  entry: Entry,
  now: number,
  r: RateLimitRequest,
): RateLimitDecision | undefined {
  if (r.points <= 0 || r.force || entry.blockedUntil > now) return undefined
  const { limit: L, windowMs: W } = r
  let a = now
  let b = 0
  if (entry.a > now || (entry.a === now && entry.b > 0)) {
    a = entry.a
    b = entry.b
  }
  // The new theoretical arrival time (a + b / L ms), one window ahead at most when allowed.
  const nb = b + r.points * W
  const na = a + Math.floor(nb / L)
  const rest = nb % L
  if (!(na < now + W || (na === now + W && rest === 0))) return undefined
  const expiresAt = na + (rest > 0 ? 1 : 0)
  if (expiresAt <= now) return undefined
  const left = Math.min(L, Math.max(0, Math.floor(((now + W - na) * L - rest) / W)))
  entry.a = na
  entry.b = rest
  entry.w = 0
  entry.blockedUntil = 0
  entry.expiresAt = expiresAt
  return {
    allowed: true,
    used: L - left,
    remaining: left,
    resetMs: expiresAt - now,
    retryAfterMs: 0,
  }
}
