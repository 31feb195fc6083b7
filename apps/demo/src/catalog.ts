import type { CacheManager } from '@cellar/cache'
import { type Duration, isCellarError } from '@cellar/core'
import type { Product, ProductPatch, ProductTable } from './db/products.js'

/** Cache key of one product. */
export const productKey = (id: number): string => `product:${id}`

/** The tag every product list is cached under: a product write flushes it. */
export const LIST_TAG = 'products'

/** The cached product lists, by name (their keys under the `products` tag). */
export const LISTS = { all: 'list:all', inStock: 'list:in-stock' } as const

/**
 * How a read was answered: from the cache (`hit`), by running the query (`miss`), by waiting
 * on another request's query for the same key (`shared`: `remember`'s single-flight), or from
 * the database because the cache backend was down (`bypass`).
 */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'bypass'

/** A value read through the catalog, with how it was answered. */
export interface Read<T> {
  readonly value: T
  readonly cache: CacheOutcome
}

/** What an update reports about the cache. */
export interface Invalidation {
  /** True if the product's cached copy was removed. */
  readonly invalidated: boolean
  /** Tags flushed (the lists that depend on every product); empty when the cache was down. */
  readonly flushedTags: readonly string[]
}

// The cache being down must not take the service down: reads fall back to the database.
function unavailable(error: unknown): boolean {
  return isCellarError(error) && error.code === 'E_BACKEND_UNAVAILABLE'
}

/**
 * Products through the cache facade: entities with `remember` (single-flight in the process,
 * so a stampede of misses runs one query), lists under the `products` tag, and writes that go
 * to the database first, then forget the entity and flush the lists' tag.
 */
export class Catalog {
  readonly #cache: CacheManager<string>
  readonly #table: ProductTable
  readonly #ttl: Duration
  // Loads per key, so a read that ran no query can tell a hit from joining a load in flight.
  readonly #loads = new Map<string, number>()
  #reads = 0

  constructor(cache: CacheManager<string>, table: ProductTable, ttl: Duration) {
    this.#cache = cache
    this.#table = table
    this.#ttl = ttl
  }

  /** How many reads (products and lists) the catalog answered since start. */
  get reads(): number {
    return this.#reads
  }

  /** One product (`value` undefined when no row has this id; such misses are not cached). */
  async find(id: number): Promise<Read<Product | undefined>> {
    return this.#read(
      productKey(id),
      (loader) => this.#cache.remember(productKey(id), this.#ttl, loader),
      () => this.#table.find(id),
    )
  }

  /** A product list, cached under the `products` tag. */
  async list(which: keyof typeof LISTS): Promise<Read<Product[]>> {
    const load = () => (which === 'inStock' ? this.#table.listInStock() : this.#table.list())
    return this.#read(
      `${LIST_TAG}/${LISTS[which]}`,
      (loader) => this.#cache.tags([LIST_TAG]).remember(LISTS[which], this.#ttl, loader),
      load,
    )
  }

  /**
   * Writes the database, then removes the product's cached copy and flushes the lists' tag.
   * Delete rather than overwrite: a concurrent miss could otherwise re-cache the old row last.
   */
  async update(
    id: number,
    patch: ProductPatch,
  ): Promise<{ product: Product | undefined } & Invalidation> {
    const product = await this.#table.update(id, patch)
    if (product === undefined) return { product, invalidated: false, flushedTags: [] }
    try {
      const invalidated = await this.#cache.forget(productKey(id))
      await this.#cache.tags([LIST_TAG]).flush()
      return { product, invalidated, flushedTags: [LIST_TAG] }
    } catch (error) {
      if (!unavailable(error)) throw error
      return { product, invalidated: false, flushedTags: [] }
    }
  }

  async #read<T>(
    id: string,
    remember: (loader: () => Promise<T>) => Promise<T>,
    load: () => Promise<T>,
  ): Promise<Read<T>> {
    this.#reads++
    const loadsBefore = this.#loads.get(id) ?? 0
    let loaded = false
    try {
      const value = await remember(() => {
        loaded = true
        if (this.#loads.size >= 10_000) this.#loads.clear()
        this.#loads.set(id, (this.#loads.get(id) ?? 0) + 1)
        return load()
      })
      if (loaded) return { value, cache: 'miss' }
      return { value, cache: (this.#loads.get(id) ?? 0) > loadsBefore ? 'shared' : 'hit' }
    } catch (error) {
      if (!unavailable(error)) throw error
      return { value: await load(), cache: 'bypass' }
    }
  }
}
