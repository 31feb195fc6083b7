import type { CacheManager } from '@cellar/cache'
import { isCellarError } from '@cellar/core'

/** What the cache events of one store add up to. */
export interface StoreCounts {
  hits: number
  misses: number
  writes: number
  forgets: number
  flushes: number
  errors: number
  /** hits / (hits + misses), or `null` before the first read. */
  hitRate: number | null
}

/** Whether the cache backend answers, as the error events (and the key listing) tell. */
export interface BackendStatus {
  readonly up: boolean
  /** The code of the failure that took it down (`E_BACKEND_UNAVAILABLE`). */
  readonly code?: string
  readonly message?: string
  /** When the current state began (ISO time). */
  readonly since: string
}

/** One point of the hit-rate chart: seconds since start, hit rate over all reads so far. */
export interface HistoryPoint {
  readonly t: number
  readonly hitRate: number | null
}

const HISTORY = 600

const fresh = (): StoreCounts => ({
  hits: 0,
  misses: 0,
  writes: 0,
  forgets: 0,
  flushes: 0,
  errors: 0,
  hitRate: null,
})

/**
 * Counts the facade's events per store (`hit`, `missed`, `written`, `forgotten`, `flushed`,
 * `error`), tracks whether the backend is up from `E_BACKEND_UNAVAILABLE` errors, and samples
 * the hit rate once a second for the dashboard's chart.
 */
export class CacheStats {
  readonly #stores = new Map<string, StoreCounts>()
  readonly #history: HistoryPoint[] = []
  readonly #started = Date.now()
  readonly #listeners = new Set<() => void>()
  readonly #off: Array<() => void>
  readonly #timer: NodeJS.Timeout
  #backend: BackendStatus = { up: true, since: new Date().toISOString() }

  constructor(cache: CacheManager<string>, defaultStore: string) {
    this.#stores.set(defaultStore, fresh())
    this.#off = [
      cache.on('hit', ({ store }) => this.#count(store, 'hits', true)),
      cache.on('missed', ({ store }) => this.#count(store, 'misses', true)),
      cache.on('written', ({ store }) => this.#count(store, 'writes', true)),
      cache.on('forgotten', ({ store }) => this.#count(store, 'forgets', true)),
      cache.on('flushed', ({ store }) => this.#count(store, 'flushes', true)),
      cache.on('error', ({ store, error }) => {
        this.#count(store, 'errors', false)
        if (isCellarError(error) && error.code === 'E_BACKEND_UNAVAILABLE') this.down(error)
      }),
    ]
    this.#timer = setInterval(() => this.#sample(), 1000)
    this.#timer.unref()
    this.#sample()
  }

  /** Counts per store name. */
  get stores(): Record<string, StoreCounts> {
    return Object.fromEntries([...this.#stores].map(([name, counts]) => [name, { ...counts }]))
  }

  /** Whether the backend answers. */
  get backend(): BackendStatus {
    return this.#backend
  }

  /** The hit-rate samples, oldest first (at most the last ten minutes). */
  get history(): readonly HistoryPoint[] {
    return this.#history
  }

  /**
   * Counts a hit, a miss or a write of a layer that uses the store through its own gateway (the
   * catalogue's repositories), so it shows beside the facade's own events.
   */
  record(store: string, field: 'hits' | 'misses' | 'writes' | 'errors'): void {
    this.#count(store, field, field !== 'errors')
  }

  /** Marks the backend down (an error event, or a failed key listing). */
  down(error: { code?: string; message: string }): void {
    if (!this.#backend.up && this.#backend.message === error.message) return
    this.#backend = {
      up: false,
      ...(error.code !== undefined && { code: error.code }),
      message: error.message,
      since: new Date().toISOString(),
    }
    this.#changed()
  }

  /** Marks the backend up again (a successful call). */
  up(): void {
    if (this.#backend.up) return
    this.#backend = { up: true, since: new Date().toISOString() }
    this.#changed()
  }

  /** Calls `listener` after every change; returns a function that stops it. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stops listening and sampling. */
  close(): void {
    clearInterval(this.#timer)
    for (const off of this.#off) off()
    this.#listeners.clear()
  }

  #count(store: string, field: Exclude<keyof StoreCounts, 'hitRate'>, success: boolean): void {
    let counts = this.#stores.get(store)
    if (counts === undefined) {
      counts = fresh()
      this.#stores.set(store, counts)
    }
    counts[field]++
    const reads = counts.hits + counts.misses
    counts.hitRate = reads === 0 ? null : counts.hits / reads
    // Any answered call means the backend is back.
    if (success) this.up()
    this.#changed()
  }

  #sample(): void {
    let hits = 0
    let reads = 0
    for (const counts of this.#stores.values()) {
      hits += counts.hits
      reads += counts.hits + counts.misses
    }
    const t = Math.round((Date.now() - this.#started) / 1000)
    this.#history.push({ t, hitRate: reads === 0 ? null : hits / reads })
    if (this.#history.length > HISTORY) this.#history.shift()
  }

  #changed(): void {
    for (const listener of this.#listeners) {
      try {
        listener()
      } catch {
        // A dashboard connection that fails must not break the cache call that counted.
      }
    }
  }
}
