import type { CacheManager } from '@cellar/cache'
import type { RateLimiter } from '@cellar/rate-limiter'
import type { Catalog } from './catalog.js'
import type { ProductTable } from './db/products.js'
import type { WriteNotices } from './notices.js'
import type { RecentOrders } from './recent-orders.js'
import type { CacheStats } from './stats.js'

/** What every route module receives: the cache, the database tables and the tunables. */
export interface AppContext {
  /** The cache facade, configured from the environment. */
  readonly cache: CacheManager<string>
  /** Products and categories through `@cellar/generational`, pages through `remember`. */
  readonly catalog: Catalog
  /** Products straight from the database (pages, the report); counts every product query. */
  readonly products: ProductTable
  /** Recent orders from a table cache. */
  readonly orders: RecentOrders
  /** The limiter of `GET /search`. */
  readonly limiter: RateLimiter
  /** The cache events, counted for the dashboard. */
  readonly stats: CacheStats
  /** What runs underneath, for the dashboard and the banner. */
  readonly labels: {
    readonly store: string
    readonly database: string
    readonly counters: string
    /** This process's name among the instances (`CACHE_STORE=tiered`). */
    readonly instance: string
  }
  /** Writes announced by the other instances (`CACHE_STORE=tiered` only). */
  readonly notices: WriteNotices | undefined
  /** How long the demo report job pretends to work, in milliseconds. */
  readonly reportDurationMs: number
}
