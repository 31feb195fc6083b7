import type { CacheManager } from '@cellar/cache'
import type { Catalog } from './catalog.js'
import type { ProductTable } from './db/products.js'
import type { CacheStats } from './stats.js'

/** What every route module receives: the cache, the database tables and the tunables. */
export interface AppContext {
  /** The cache facade, configured from the environment. */
  readonly cache: CacheManager<string>
  /** Products through the cache. */
  readonly catalog: Catalog
  /** Products straight from the database. */
  readonly products: ProductTable
  /** The cache events, counted for the dashboard. */
  readonly stats: CacheStats
  /** What runs underneath, for the dashboard and the banner. */
  readonly labels: { readonly store: string; readonly database: string }
  /** How long the demo report job pretends to work, in milliseconds. */
  readonly reportDurationMs: number
}
