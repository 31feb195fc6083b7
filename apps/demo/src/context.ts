import type { CacheGateway, Duration } from '@cellar/core'
import type { ProductTable } from './db/products.js'

/** What every route module receives: the cache, the database tables and the tunables. */
export interface AppContext {
  readonly cache: CacheGateway
  readonly products: ProductTable
  /** TTL of cached products. */
  readonly productTtl: Duration
  /** How long the demo report job pretends to work, in milliseconds. */
  readonly reportDurationMs: number
}
