import {
  assertKey,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  SteppedRateLimitBackend,
} from '@cellar/core'

// Mutable: a step on a stored key rewrites its entry in place (no new object, no re-insert).
interface Entry {
  state: RateLimitState
  expiresAt: number
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

  /** One decision on `key` of `scope`. */
  step(
    algorithm: RateLimitAlgorithm,
    scope: RateLimitScope,
    key: string,
    request: RateLimitRequest,
  ): RateLimitDecision {
    const now = this.#now()
    const entry = scope.get(key)
    const live = entry !== undefined && entry.expiresAt > now ? entry.state : undefined
    const outcome = rateLimitStep(algorithm, live, now, request)
    // A read (0 points) changes nothing worth keeping.
    if (request.points !== 0) {
      if (outcome.state !== undefined && outcome.expiresAt > now) {
        if (entry === undefined)
          scope.set(key, { state: outcome.state, expiresAt: outcome.expiresAt })
        else {
          entry.state = outcome.state
          entry.expiresAt = outcome.expiresAt
        }
      } else if (entry !== undefined) {
        scope.delete(key)
      }
    }
    if (++this.#steps % SWEEP_EVERY === 0) this.#sweep(now)
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
    assertKey(key)
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
