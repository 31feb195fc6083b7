import {
  assertKey,
  type RateLimitAlgorithm,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  scopedKey,
} from '@cellar/core'

interface Entry {
  readonly state: RateLimitState
  readonly expiresAt: number
}

// Every this many steps, a bounded pass drops expired entries (see `#sweep`).
const SWEEP_EVERY = 1024
const SWEEP_SCAN = 256

/**
 * Limiter state of one root store, apart from the LRU (so eviction never forgets a window).
 * Each step runs synchronously before it resolves: atomic within the process, on one clock.
 */
export class MemoryRateLimits {
  readonly #entries = new Map<string, Entry>()
  readonly #now: () => number
  #steps = 0
  #cursor: MapIterator<[string, Entry]> | undefined

  constructor(now: () => number) {
    this.#now = now
  }

  /** One decision on the stored key `full`. */
  step(algorithm: RateLimitAlgorithm, full: string, request: RateLimitRequest): RateLimitDecision {
    const now = this.#now()
    const entry = this.#entries.get(full)
    const live = entry !== undefined && entry.expiresAt > now ? entry.state : undefined
    const outcome = rateLimitStep(algorithm, live, now, request)
    // A read (0 points) changes nothing worth keeping.
    if (request.points !== 0) {
      if (outcome.state !== undefined && outcome.expiresAt > now) {
        this.#entries.set(full, { state: outcome.state, expiresAt: outcome.expiresAt })
      } else if (entry !== undefined) {
        this.#entries.delete(full)
      }
    }
    if (++this.#steps % SWEEP_EVERY === 0) this.#sweep(now)
    return outcome.decision
  }

  /** Forgets `full`. */
  reset(full: string): void {
    this.#entries.delete(full)
  }

  /** Forgets everything (the root store closed). */
  clear(): void {
    this.#entries.clear()
  }

  // Scans the next SWEEP_SCAN entries from where the last pass stopped, so every entry is
  // visited in turn however many live ones come first.
  #sweep(now: number): void {
    for (let scanned = 0; scanned < SWEEP_SCAN; scanned++) {
      this.#cursor ??= this.#entries.entries()
      const next = this.#cursor.next()
      if (next.done === true) {
        this.#cursor = undefined
        return
      }
      if (next.value[1].expiresAt <= now) this.#entries.delete(next.value[0])
    }
  }
}

/** One store's view of the limiter state: keys scoped under its prefix, refused once closed. */
export class ScopedRateLimitBackend implements RateLimitBackend {
  readonly #limits: MemoryRateLimits
  readonly #prefix: string
  readonly #open: () => void

  constructor(limits: MemoryRateLimits, prefix: string, open: () => void) {
    this.#limits = limits
    this.#prefix = prefix
    this.#open = open
  }

  fixedWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#step('fixed-window', key, request)
  }

  slidingWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#step('sliding-window', key, request)
  }

  tokenBucket(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#step('token-bucket', key, request)
  }

  async reset(key: string): Promise<void> {
    this.#open()
    assertKey(key)
    this.#limits.reset(scopedKey(this.#prefix, key))
  }

  #step(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    try {
      this.#open()
      assertKey(key)
      return Promise.resolve(this.#limits.step(algorithm, scopedKey(this.#prefix, key), request))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
