import {
  decodeCounter,
  encodeCounter,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  type Store,
  UnsupportedError,
} from '@cellar/core'

// Where the fallback keeps a key's state, in the limiter's own namespace. Each tag ends at the
// first ':' and holds no ':' itself, so no two (tag, key) pairs share a stored key.
const counterKey = (key: string, window: number | '') => `c${window}:${key}`
const blockKey = (key: string) => `b:${key}`

/**
 * The limiter step built on a store's `add` and atomic `increment` (with its TTL on create), for
 * stores without a native step. Fixed and sliding windows only; the clock is this process's
 * `Date.now()` (window boundaries, block ends), while expiry runs on the store's clock. A refused
 * consume is taken back with a second `increment`: concurrent callers may be refused while it is
 * in flight (never let through), and a crash in between overcounts until the window ends.
 */
export class CounterRateLimitBackend implements RateLimitBackend {
  readonly #store: Store<unknown>
  readonly #now: () => number
  readonly #windows = new Set<number>()

  constructor(store: Store<unknown>, now: () => number = Date.now) {
    this.#store = store
    this.#now = now
  }

  async fixedWindow(key: string, r: RateLimitRequest): Promise<RateLimitDecision> {
    const now = this.#now()
    const blocked = await this.#blocked(key, r, now)
    if (blocked !== undefined) return blocked
    const W = r.windowMs
    // A store that rounds TTLs (memcached: whole seconds) would keep an anchored counter past
    // a short window, so there every window is aligned and lives under its own key.
    const aligned = r.aligned || this.#store.capabilities.ttlPrecision > 1
    if (aligned) this.#windows.add(W)
    const index = aligned ? Math.floor(now / W) : ''
    const stored = counterKey(key, index)
    const end = aligned ? (index as number) * W + W : now + W
    const ttl = end - now
    let count: number
    let resetMs: number
    if (r.points === 0) {
      const [value, left] = await Promise.all([this.#store.get(stored), this.#ttl(stored)])
      count = Math.max(0, decodeCounter(value) ?? 0)
      resetMs = value === undefined ? 0 : aligned ? ttl : (left ?? W)
    } else {
      const [value, left] = await Promise.all([
        this.#store.increment(stored, r.points, { ttl }),
        aligned ? ttl : this.#ttl(stored),
      ])
      count = value
      resetMs = Math.max(1, left ?? W)
    }
    // A read answers for a 1-point consume, without taking it.
    const points = r.points === 0 ? 1 : r.points
    const taken = r.points === 0 ? 0 : points
    const allowed = points < 0 || count - taken + points <= r.limit
    if (!allowed && !r.force && taken > 0) {
      count = await this.#store.increment(stored, -taken, { ttl })
    }
    return this.#decision(key, r, now, allowed, Math.max(0, count), resetMs, () => resetMs)
  }

  async slidingWindow(key: string, r: RateLimitRequest): Promise<RateLimitDecision> {
    const now = this.#now()
    const blocked = await this.#blocked(key, r, now)
    if (blocked !== undefined) return blocked
    const W = r.windowMs
    this.#windows.add(W)
    const index = Math.floor(now / W)
    const elapsed = now - index * W
    const current = counterKey(key, index)
    const ttl = 2 * W - elapsed
    const [counted, previousValue] = await Promise.all([
      r.points === 0
        ? this.#store.get(current).then((value) => decodeCounter(value) ?? 0)
        : this.#store.increment(current, r.points, { ttl }),
      this.#store.get(counterKey(key, index - 1)),
    ])
    const previous = Math.max(0, decodeCounter(previousValue) ?? 0)
    const weighted = Math.ceil((previous * (W - elapsed)) / W)
    const points = r.points === 0 ? 1 : r.points
    const taken = r.points === 0 ? 0 : points
    let count = counted
    const allowed = points < 0 || weighted + count - taken + points <= r.limit
    if (!allowed && !r.force && taken > 0) {
      count = await this.#store.increment(current, -taken, { ttl })
    }
    count = Math.max(0, count)
    const resetMs = count > 0 ? ttl : previous > 0 ? W - elapsed : 0
    // When a consume of `points` could pass: later in this window as the previous one's weight
    // shrinks, or in the next one, where this window's count becomes the weighted previous.
    const wait = () => {
      if (count + points <= r.limit) {
        const room = r.limit - count - points
        return Math.max(1, Math.ceil(W - (room * W) / previous) - elapsed)
      }
      if (points > r.limit) return 2 * W - elapsed
      const room = r.limit - points
      return W - elapsed + (count > room ? Math.ceil(W - (room * W) / count) : 0)
    }
    return this.#decision(key, r, now, allowed, weighted + count, resetMs, wait)
  }

  async tokenBucket(): Promise<RateLimitDecision> {
    throw new UnsupportedError(
      `[cellar:rate-limiter] the token bucket needs a store with a native limiter step; ${this.#store.name} has none`,
    )
  }

  async reset(key: string): Promise<void> {
    const now = this.#now()
    const keys = [counterKey(key, ''), blockKey(key)]
    // Aligned and sliding windows keep one counter per window index: those of every window
    // length this backend has served go (the current and previous index of each).
    for (const W of this.#windows) {
      const index = Math.floor(now / W)
      keys.push(counterKey(key, index), counterKey(key, index - 1))
    }
    await this.#store.deleteMany(keys)
  }

  async #decision(
    key: string,
    r: RateLimitRequest,
    now: number,
    allowed: boolean,
    used: number,
    resetMs: number,
    wait: () => number,
  ): Promise<RateLimitDecision> {
    const remaining = Math.max(0, r.limit - used)
    if (r.points === 0) {
      // A read: refused while blocked, else whatever the counters say.
      const blockLeft = await this.#blockLeft(key, r, now)
      if (blockLeft > 0)
        return { allowed: false, used, remaining, resetMs, retryAfterMs: blockLeft }
    }
    if (allowed) return { allowed, used, remaining, resetMs, retryAfterMs: 0 }
    const block = r.points > 0 ? await this.#block(key, r, now) : undefined
    return { allowed, used, remaining, resetMs, retryAfterMs: block ?? wait() }
  }

  // A live block refuses a consume without touching the counters.
  async #blocked(
    key: string,
    r: RateLimitRequest,
    now: number,
  ): Promise<RateLimitDecision | undefined> {
    if (r.points <= 0 || r.force) return undefined
    const retryAfterMs = await this.#blockLeft(key, r, now)
    if (retryAfterMs === 0) return undefined
    return { allowed: false, used: r.limit, remaining: 0, resetMs: retryAfterMs, retryAfterMs }
  }

  // Milliseconds left of a running block (0: none); read only when blocks are configured.
  async #blockLeft(key: string, r: RateLimitRequest, now: number): Promise<number> {
    if (r.blockMs <= 0) return 0
    const until = decodeCounter(await this.#store.get(blockKey(key)))
    return until === undefined || until <= now ? 0 : until - now
  }

  // The first refusal starts a block; `add` never extends one that is already running.
  async #block(key: string, r: RateLimitRequest, now: number): Promise<number | undefined> {
    if (r.blockMs <= 0) return undefined
    const until = encodeCounter(now + r.blockMs)
    if (await this.#store.add(blockKey(key), until, r.blockMs)) return r.blockMs
    const left = await this.#blockLeft(key, r, now)
    if (left > 0) return left
    // An ended block the store still keeps (its TTL rounded up) is replaced.
    await this.#store.set(blockKey(key), until, r.blockMs)
    return r.blockMs
  }

  async #ttl(stored: string): Promise<number | undefined> {
    if (!this.#store.capabilities.readsTtl) return undefined
    const ttl = await this.#store.ttl(stored)
    return ttl === null ? undefined : ttl
  }
}
