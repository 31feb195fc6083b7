import {
  assertKey,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  SteppedRateLimitBackend,
  StoreClosedError,
} from '@cellar/core'

// One key's state, mutable: a step rewrites it in place (no new object, no re-insert), and it
// is itself the `RateLimitState` the reference step reads.
// The fields are `declare`d: a class field declaration would first set each to `undefined`, and
// V8 then keeps them as tagged values (a heap number allocated and a write barrier per timestamp
// written, a type check per read) instead of in-place doubles (callgrind, awaited consume: fixed
// window -30 instructions, sliding -96, bucket -104).
class Entry implements RateLimitState {
  declare a: number
  declare b: number
  declare w: number
  declare blockedUntil: number
  declare expiresAt: number
  // The map key this entry is stored under (the sweep iterates entries alone, no pairs).
  declare readonly key: string

  constructor(key: string, state: RateLimitState, expiresAt: number) {
    this.key = key
    this.a = state.a
    this.b = state.b
    this.w = state.w
    this.blockedUntil = state.blockedUntil
    this.expiresAt = expiresAt
  }
}

// Every this many steps, a bounded pass drops expired entries (see `#sweep`).
const SWEEP_EVERY = 1024
const SWEEP_MASK = SWEEP_EVERY - 1
const SWEEP_SCAN = 256

/** A caller's object a decision may be written into (core's `decideSync` `into`). */
export type DecisionSlot = { -readonly [K in keyof RateLimitDecision]: RateLimitDecision[K] }

// A decision made in place: written into the caller's `into` when given, else a new object.
function decided(
  into: DecisionSlot | undefined,
  allowed: boolean,
  used: number,
  remaining: number,
  resetMs: number,
  retryAfterMs: number,
): RateLimitDecision {
  if (into === undefined) return { allowed, used, remaining, resetMs, retryAfterMs }
  into.allowed = allowed
  into.used = used
  into.remaining = remaining
  into.resetMs = resetMs
  into.retryAfterMs = retryAfterMs
  return into
}

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
  #cursor: MapIterator<Entry> | undefined
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

  /**
   * One decision on `key` of `scope` (`E_INVALID_KEY` for a key that fails `assertKey`); a
   * decision made in place is written into `into` when given (see core's `decideSync`).
   */
  step(
    algorithm: RateLimitAlgorithm,
    scope: RateLimitScope,
    key: string,
    request: RateLimitRequest,
    into?: DecisionSlot,
  ): RateLimitDecision {
    const now = this.#now()
    // Before the lookup: a sweep may drop this key's (expired) entry. The count wraps, so it
    // stays a small integer however long the process runs.
    const steps = (this.#steps + 1) & SWEEP_MASK
    this.#steps = steps
    if (steps === 0) this.#sweep(now)
    const entry = scope.get(key)
    // The commonest decision, an allowed fixed-window consume, written out here (the same as
    // `fixedWindowInPlace`'s allowed branch): small enough for V8 to inline this step into the
    // limiter's consume, which the general path below is not.
    if (entry !== undefined && into !== undefined && algorithm === 'fixed-window') {
      const w = entry.w
      const points = request.points
      if (points > 0 && !request.force && w > now && entry.expiresAt > now) {
        const next = entry.a + points
        if (entry.blockedUntil <= now && next <= request.limit) {
          entry.a = next
          entry.b = 0
          entry.blockedUntil = 0
          entry.expiresAt = w
          into.allowed = true
          into.used = next
          into.remaining = request.limit - next
          into.resetMs = w - now
          into.retryAfterMs = 0
          return into
        }
      }
    }
    return this.#general(algorithm, scope, key, request, into, entry, now)
  }

  // Every other decision: in place where the algorithm's common case allows, else core's step.
  #general(
    algorithm: RateLimitAlgorithm,
    scope: RateLimitScope,
    key: string,
    request: RateLimitRequest,
    into: DecisionSlot | undefined,
    entry: Entry | undefined,
    now: number,
  ): RateLimitDecision {
    if (entry !== undefined) {
      // Only a checked key is ever inserted (below), so a found entry proves the key valid.
      const fast =
        algorithm === 'fixed-window'
          ? fixedWindowInPlace(entry, now, request, into)
          : algorithm === 'sliding-window'
            ? slidingWindowInPlace(entry, now, request, into)
            : tokenBucketInPlace(entry, now, request, into)
      if (fast !== undefined) return fast
    } else assertKey(key)
    const live = entry !== undefined && entry.expiresAt > now ? entry : undefined
    const outcome = rateLimitStep(algorithm, live, now, request)
    // A read (0 points) changes nothing worth keeping.
    if (request.points !== 0) {
      const state = outcome.state
      if (state !== undefined && outcome.expiresAt > now) {
        if (entry === undefined) scope.set(key, new Entry(key, state, outcome.expiresAt))
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
  // every entry is visited in turn however many live ones come first. A map's iterator has no
  // `return`, so leaving the `for...of` early keeps it where it stopped.
  #sweep(now: number): void {
    let budget = SWEEP_SCAN
    while (budget > 0) {
      let cursor = this.#cursor
      let scope = this.#cursorScope
      if (cursor === undefined || scope === undefined) {
        this.#scopeCursor ??= this.#scopes.values()
        const next = this.#scopeCursor.next()
        if (next.done === true) {
          this.#scopeCursor = undefined
          return
        }
        scope = next.value
        cursor = scope.values()
        this.#cursorScope = scope
        this.#cursor = cursor
      }
      let finished = true
      for (const entry of cursor) {
        if (entry.expiresAt <= now) scope.delete(entry.key)
        if (--budget === 0) {
          finished = false
          break
        }
      }
      if (finished) this.#cursor = undefined
    }
  }
}

/** Whether a store handle is closed: its own flag, then its parent's, up to the root store. */
export interface StoreScope {
  readonly closed: boolean
  readonly parent: StoreScope | undefined
}

/** One store's view of the limiter state: keys scoped under its prefix, refused once closed. */
export class ScopedRateLimitBackend extends SteppedRateLimitBackend {
  readonly #limits: MemoryRateLimits
  readonly #scope: RateLimitScope
  // The store handle's own scope, read as data on every call (no closure to call through).
  readonly #store: StoreScope

  constructor(limits: MemoryRateLimits, prefix: string, store: StoreScope) {
    super()
    this.#limits = limits
    this.#scope = limits.scope(prefix)
    this.#store = store
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
    into?: DecisionSlot,
  ): RateLimitDecision {
    // #open's walk written out for a store and its parent (a limiter's namespace of a root
    // store), the common case; deeper chains take the walk.
    const store = this.#store
    const parent = store.parent
    if (store.closed || (parent !== undefined && (parent.closed || parent.parent !== undefined))) {
      this.#open()
    }
    // The key is checked by the step on a miss (a hit proves it valid).
    return this.#limits.step(algorithm, this.#scope, key, request, into)
  }

  #open(): void {
    let store: StoreScope | undefined = this.#store
    do {
      if (store.closed) throw new StoreClosedError('[cellar:memory] store is closed')
      store = store.parent
    } while (store !== undefined)
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
  into: DecisionSlot | undefined,
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
    return decided(into, true, next, r.limit - next, resetMs, 0)
  }
  if (r.blockMs > 0) return undefined
  const used = entry.a
  entry.b = 0
  entry.blockedUntil = 0
  entry.expiresAt = entry.w
  return decided(into, false, used, Math.max(0, r.limit - used), resetMs, resetMs)
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
  into: DecisionSlot | undefined,
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
  return decided(into, true, used, Math.max(0, r.limit - used), Math.max(0, end - now), 0)
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
  into: DecisionSlot | undefined,
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
  return decided(into, true, L - left, left, expiresAt - now, 0)
}
