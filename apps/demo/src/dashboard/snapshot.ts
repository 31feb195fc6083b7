import { type CacheManager, createCache } from '@cellar/cache'
import { LIST_TAG, LISTS } from '../catalog.js'
import type { AppContext } from '../context.js'
import type { BackendStatus, HistoryPoint, StoreCounts } from '../stats.js'

/** A cached key and its remaining lifetime (`null`: no expiry). */
export interface KeyRow {
  readonly key: string
  readonly ttlMs: number | null
}

/** A product list under the `products` tag, and whether it is cached right now. */
export interface ListRow {
  readonly key: string
  readonly tag: string
  /** `null` when the cache could not be asked (backend down). */
  readonly cached: boolean | null
}

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
}

const MAX_KEYS = 100
const HISTORY_SENT = 300

/**
 * Builds dashboard snapshots. Keys come from the store's own listing (`keys()`, this cache's
 * prefix only) with `ttl()` per key; tagged lists live in nested namespaces that `keys()` does
 * not list, so they are looked up through a second facade over the same store that has no
 * listeners — looking must not count as a hit or a miss on the page.
 */
export class SnapshotReader {
  readonly #ctx: AppContext
  readonly #quiet: CacheManager<string>

  constructor(ctx: AppContext) {
    this.#ctx = ctx
    const repository = ctx.cache.store()
    // The same namespaced store as the app's cache, so the same tag generations and entries.
    this.#quiet = createCache({
      default: repository.storeName,
      stores: { [repository.storeName]: repository.gateway.store },
    })
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
      const ttls = await Promise.all(names.map((key) => gateway.ttl(key)))
      const keys: KeyRow[] = []
      names.forEach((key, i) => {
        const ttl = ttls[i]
        // Expired between the listing and the TTL read: leave it out.
        if (ttl !== undefined) keys.push({ key, ttlMs: ttl })
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
    const keys = Object.values(LISTS)
    try {
      const found = await this.#quiet.tags([LIST_TAG]).many(keys)
      return keys.map((key) => ({ key, tag: LIST_TAG, cached: found[key] !== undefined }))
    } catch {
      return keys.map((key) => ({ key, tag: LIST_TAG, cached: null }))
    }
  }
}
