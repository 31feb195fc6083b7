import type { ProductFilters } from '../catalog.js'
import type { AppContext } from '../context.js'
import type { WriteNotice } from '../notices.js'
import type { OrdersStats } from '../recent-orders.js'
import type { BackendStatus, HistoryPoint, StoreCounts } from '../stats.js'

/** A cached key and its remaining lifetime (`null`: no expiry). */
export interface KeyRow {
  readonly key: string
  readonly ttlMs: number | null
  /**
   * For catalogue entries (products, categories, lists): whether the key is under the current
   * generations (`true`) or one a write left behind (`false`: never read again, gone at its
   * TTL). Absent for keys without generations (pages, searches).
   */
  readonly current?: boolean
}

/** A catalogue list (first page), and whether it is cached under its current fingerprint. */
export interface ListRow {
  /** The list's filters as a query string (`all` for none). */
  readonly key: string
  /** `null` when the cache could not be asked (backend down). */
  readonly cached: boolean | null
}

/** The lists the dashboard watches: one per category, so a write shows which ones it hit. */
export const WATCHED_LISTS: ReadonlyArray<{ key: string; filters: ProductFilters }> = [
  { key: 'all', filters: {} },
  { key: 'category=1', filters: { category: 1 } },
  { key: 'category=2', filters: { category: 2 } },
  { key: 'category=3', filters: { category: 3 } },
  { key: 'inStock=true', filters: { inStock: true } },
]

/** Everything the dashboard shows, as one JSON document. */
export interface Snapshot {
  readonly labels: AppContext['labels']
  readonly stores: Record<string, StoreCounts>
  readonly backend: BackendStatus
  /**
   * Product and list reads served, the database queries they ran, and the queries the cache
   * saved (hits, and reads that shared another request's load).
   */
  readonly database: { readonly reads: number; readonly queries: number; readonly saved: number }
  readonly keys: readonly KeyRow[]
  /** Why `keys` is empty when listing failed. */
  readonly keysError?: string
  readonly lists: readonly ListRow[]
  readonly history: readonly HistoryPoint[]
  /** The table cache of recent orders. */
  readonly orders: OrdersStats
  /** The limiter of `GET /search`. */
  readonly limiter: { readonly policy: string; readonly limit: number; readonly windowMs: number }
  /** Writes announced by other instances (`CACHE_STORE=tiered`), else `null`. */
  readonly notices: { readonly count: number; readonly last: readonly WriteNotice[] } | null
}

const MAX_KEYS = 100
const HISTORY_SENT = 300

/**
 * Builds dashboard snapshots. Keys come from the store's own listing (`keys()`, this cache's
 * prefix only) with `ttl()` per key and, for catalogue entries, whether they are under the
 * current generations; whether each watched list is cached is asked by key
 * (`Catalog.listCached`), which reads no entry — looking must not count as a hit or a miss.
 */
export class SnapshotReader {
  readonly #ctx: AppContext

  constructor(ctx: AppContext) {
    this.#ctx = ctx
  }

  /** The current state; a cache that does not answer marks the backend down instead of failing. */
  async read(): Promise<Snapshot> {
    const { stats, products, catalog, labels } = this.#ctx
    const [keys, lists] = await Promise.all([this.#keys(), this.#lists()])
    return {
      labels,
      stores: stats.stores,
      backend: stats.backend,
      database: {
        reads: catalog.reads,
        queries: products.queries,
        saved: Math.max(0, catalog.reads - products.queries),
      },
      ...keys,
      lists,
      history: stats.history.slice(-HISTORY_SENT),
      orders: this.#ctx.orders.stats(),
      limiter: {
        policy: 'search',
        limit: this.#ctx.limiter.limit,
        windowMs: this.#ctx.limiter.windowMs,
      },
      notices:
        this.#ctx.notices === undefined
          ? null
          : { count: this.#ctx.notices.count, last: this.#ctx.notices.received.slice(-5) },
    }
  }

  async #keys(): Promise<{ keys: KeyRow[]; keysError?: string }> {
    const gateway = this.#ctx.cache.store().gateway
    try {
      const names: string[] = []
      for await (const key of gateway.keys()) {
        names.push(key)
        if (names.length >= MAX_KEYS) break
      }
      names.sort()
      const [ttls, current] = await Promise.all([
        Promise.all(names.map((key) => gateway.ttl(key))),
        // Not knowing a generation must not hide the keys.
        this.#ctx.catalog.current(names).catch(() => names.map(() => undefined)),
      ])
      const keys: KeyRow[] = []
      names.forEach((key, i) => {
        const ttl = ttls[i]
        const now = current[i]
        // Expired between the listing and the TTL read: leave it out.
        if (ttl !== undefined)
          keys.push({ key, ttlMs: ttl, ...(now !== undefined && { current: now }) })
      })
      this.#ctx.stats.up()
      return { keys }
    } catch (error) {
      const failure = error as { code?: string; message?: string }
      if (failure.code === 'E_BACKEND_UNAVAILABLE') {
        this.#ctx.stats.down({ code: failure.code, message: failure.message ?? String(error) })
      }
      return { keys: [], keysError: failure.message ?? String(error) }
    }
  }

  async #lists(): Promise<ListRow[]> {
    return Promise.all(
      WATCHED_LISTS.map(async ({ key, filters }) => {
        try {
          return { key, cached: await this.#ctx.catalog.listCached(filters) }
        } catch {
          return { key, cached: null }
        }
      }),
    )
  }
}
