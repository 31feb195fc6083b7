import { type CacheGateway, type Duration, parseDuration } from '@cellar/core'
import type { CacheEmitter } from './emitter.js'
import type { SingleFlight } from './single-flight.js'

/** `[fresh, stale]` of `flexible()`: serve without refresh, then serve and refresh. */
export type Freshness = readonly [fresh: Duration, stale: Duration]

/** What `Flexible` shares with the repository that owns it. */
export interface FlexibleContext {
  readonly storeName: string
  readonly events: CacheEmitter
  /** The repository's single-flight, shared with `remember`. */
  readonly flights: SingleFlight
  /** The gateway of the refresh guards (a namespace no cache key can alias), made on first use. */
  readonly guards: () => CacheGateway
}

type Loader<T> = () => T | Promise<T>

/**
 * The engine behind `flexible` (stale-while-revalidate): entries carry a fresh-until stamp;
 * a stale one is served and refreshed once in the background, guarded across processes by an
 * atomic `add` on a refresh key.
 */
export class Flexible {
  readonly #gateway: CacheGateway
  readonly #context: FlexibleContext

  constructor(gateway: CacheGateway, context: FlexibleContext) {
    this.#gateway = gateway
    this.#context = context
  }

  /** See `Repository.flexible`. */
  async flexible<T>(key: string, freshness: Freshness, loader: Loader<T>): Promise<T> {
    const freshMs = parseDuration(freshness[0], 'fresh', key)
    const staleMs = parseDuration(freshness[1], 'stale', key)
    const entry = await this.#gateway.getEntry<T>(key)
    if (entry !== undefined) {
      const freshUntil = entry.meta?.freshUntil
      if (freshUntil !== undefined && Date.now() > freshUntil) {
        this.#refresh(key, freshMs, staleMs, loader)
      }
      return entry.value
    }
    return this.#context.flights.run(key, () => this.#load(key, freshMs, staleMs, loader))
  }

  async #load<T>(key: string, freshMs: number, staleMs: number, loader: Loader<T>): Promise<T> {
    const value = await loader()
    if (value !== undefined) {
      await this.#gateway.setValue(key, value, freshMs + staleMs, {
        freshUntil: Date.now() + freshMs,
      })
    }
    return value
  }

  #refresh<T>(key: string, freshMs: number, staleMs: number, loader: Loader<T>): void {
    const { flights, events, storeName } = this.#context
    if (flights.has(key)) return
    const guards = this.#context.guards()
    const guardTtl = Math.max(1_000, Math.min(staleMs, 60_000))
    const task = guards
      .addValue(key, 1, guardTtl)
      .then(async (won) => {
        if (!won) return
        try {
          await this.#load(key, freshMs, staleMs, loader)
        } finally {
          await guards.delete(key)
        }
      })
      .catch((error: unknown) => events.emit('error', { store: storeName, key, error }))
    flights.run(key, () => task).catch(() => {})
  }
}
