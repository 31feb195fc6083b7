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

// Every 1,024 steps (`tick`), a bounded pass drops expired entries (see `#sweep`).
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
   * The clock's reading for one step; every 1,024 steps a bounded pass first drops expired
   * entries (it may drop the stepped key's own, so read the entry after this).
   */
  tick(): number {
    const now = this.#now()
    // The count wraps, so it stays a small integer however long the process runs. The mask is
    // written out: V8 reads a module-level constant from its context, with a type check, on
    // every call.
    const steps = (this.#steps + 1) & 1023
    this.#steps = steps
    if (steps === 0) this.#sweep(now)
    return now
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
    const now = this.tick()
    return this.decide(algorithm, scope, key, request, into, scope.get(key), now)
  }

  /**
   * `step` once the clock is read and `key`'s entry looked up. One method, not one per
   * algorithm: V8 never inlines a function of more than 460 bytes of bytecode, and this one must
   * not be inlined into the compiled code of `decideSync`'s fast path, whose callers would then
   * find it too large to inline in turn (callgrind: about 60 instructions per consume).
   */
  decide(
    algorithm: RateLimitAlgorithm,
    scope: RateLimitScope,
    key: string,
    request: RateLimitRequest,
    into: DecisionSlot | undefined,
    entry: Entry | undefined,
    now: number,
  ): RateLimitDecision {
    if (entry === undefined) assertKey(key)
    // Only a checked key is ever inserted (below), so a found entry proves the key valid. Points
    // taken without force or a block in force: the algorithm's common case, decided on the entry
    // in place (the same decision and state as core's step, with the same arithmetic, without
    // its state, outcome and probe objects); anything else falls through to core's step.
    else if (!(request.points <= 0 || request.force || entry.blockedUntil > now)) {
      const points = request.points
      const limit = request.limit
      const W = request.windowMs
      if (algorithm === 'fixed-window') {
        // A live window; a refusal only where it starts no block. Without a block, the state
        // expires at the window's end.
        const w = entry.w
        if (w > now && entry.expiresAt > now) {
          const next = entry.a + points
          const resetMs = w - now
          if (next <= limit) {
            entry.a = next
            entry.b = 0
            entry.blockedUntil = 0
            entry.expiresAt = w
            return decided(into, true, next, limit - next, resetMs, 0)
          }
          if (request.blockMs <= 0) {
            const used = entry.a
            entry.b = 0
            entry.blockedUntil = 0
            entry.expiresAt = w
            return decided(into, false, used, Math.max(0, limit - used), resetMs, resetMs)
          }
        }
      } else if (algorithm === 'sliding-window') {
        // An allowed consume of a live entry (a refusal is left to core's step).
        if (entry.expiresAt > now) {
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
          if (weighted + current + points <= limit) {
            current += points
            const used = weighted + current
            const end = start + 2 * W
            entry.a = current
            entry.b = previous
            entry.w = start
            entry.blockedUntil = 0
            entry.expiresAt = end
            return decided(into, true, used, Math.max(0, limit - used), Math.max(0, end - now), 0)
          }
        }
      } else {
        // Token bucket (GCRA), an allowed consume. A stale entry needs no special case: core's
        // step reads it like no state at all (its arrival time and any block lie in the past).
        let a = now
        let b = 0
        if (entry.a > now || (entry.a === now && entry.b > 0)) {
          a = entry.a
          b = entry.b
        }
        // The new theoretical arrival time (a + b / L ms), one window ahead at most when allowed.
        const nb = b + points * W
        const na = a + Math.floor(nb / limit)
        const rest = nb % limit
        const expiresAt = na + (rest > 0 ? 1 : 0)
        if ((na < now + W || (na === now + W && rest === 0)) && expiresAt > now) {
          const left = Math.min(limit, Math.max(0, Math.floor(((now + W - na) * limit - rest) / W)))
          entry.a = na
          entry.b = rest
          entry.w = 0
          entry.blockedUntil = 0
          entry.expiresAt = expiresAt
          return decided(into, true, limit - left, left, expiresAt - now, 0)
        }
      }
    }
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

// What the next backend's fields are defined from, set by its constructor before `super()`.
// Each private field is then written once, where it is defined (assigned in the constructor,
// it would first be defined as `undefined`): V8 keeps such a field constant and knows the map of
// its value, so a call reads it with no map check (callgrind: about 10 instructions a consume).
let handoff: { limits: MemoryRateLimits; scope: RateLimitScope; store: StoreScope } | undefined

/** One store's view of the limiter state: keys scoped under its prefix, refused once closed. */
export class ScopedRateLimitBackend extends SteppedRateLimitBackend {
  readonly #limits = (handoff as NonNullable<typeof handoff>).limits
  readonly #scope = (handoff as NonNullable<typeof handoff>).scope
  // The store handle's own scope, read as data on every call (no closure to call through), and
  // its parent's (its own where it has none: a field always holding a scope is read unchecked).
  readonly #store = (handoff as NonNullable<typeof handoff>).store
  readonly #parent = this.#store.parent ?? this.#store
  // Whether the chain goes past the parent: then every call walks it (`#open`).
  readonly #deep = this.#parent.parent !== undefined

  constructor(limits: MemoryRateLimits, prefix: string, store: StoreScope) {
    handoff = { limits, scope: limits.scope(prefix), store }
    super()
    handoff = undefined
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
    if (this.#store.closed || this.#parent.closed || this.#deep) this.#open()
    // Fields read before the clock: V8 checks their holder again after a call into the runtime.
    const limits = this.#limits
    const scope = this.#scope
    const now = limits.tick()
    const entry = scope.get(key)
    // The commonest decision, an allowed fixed-window consume, written out here (the same as
    // the allowed fixed-window branch of `MemoryRateLimits#decide`): small enough for V8 to
    // inline this method into the limiter's consume, which `decide` is not. The key is checked
    // by `decide` on a miss (a hit proves it valid).
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
    return limits.decide(algorithm, scope, key, request, into, entry, now)
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
