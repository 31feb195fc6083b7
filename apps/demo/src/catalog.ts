import type { CacheManager } from '@cellar/cache'
import {
  type CacheGateway,
  type CellarError,
  type Duration,
  InvalidArgumentError,
  isCellarError,
} from '@cellar/core'
import {
  CachedRepository,
  entityKey,
  GenerationalResolver,
  listKey,
  type RepositoryEvent,
  stableHash,
} from '@cellar/generational'
import type { Knex } from 'knex'
import {
  type Product,
  type ProductPage,
  type ProductPatch,
  type ProductRow,
  type ProductTable,
  toProduct,
} from './db/products.js'
import {
  type CategoryRow,
  type CountingRepository,
  categoryRepository,
  productRepository,
  type ReadTrace,
  traces,
} from './repositories.js'

/** Cache key of a product page (the facade's `remember`, with a lock across processes). */
export const pageKey = (id: number): string => `product-page:${id}`

/** The tag of cached search results (`GET /search`); a product write flushes it. */
export const SEARCH_TAG = 'product-search'

/**
 * How a read was answered: from the cache (`hit`), by running the query (`miss`), by waiting
 * on another request's query for the same key (`shared`: single-flight), or from the database
 * because the cache backend was down (`bypass`).
 */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'bypass'

/** A value read through the catalog, with how it was answered. */
export interface Read<T> {
  readonly value: T
  readonly cache: CacheOutcome
}

/** Filters of a product list. */
export interface ProductFilters {
  readonly category?: number
  readonly inStock?: boolean
}

/** An offset page: `page` counts from 1. */
export interface PageRequest {
  readonly page: number
  readonly limit: number
}

/** One page of a product list. */
export interface ProductList {
  readonly products: Product[]
  readonly total: number
  readonly page: number
  readonly limit: number
}

/** A category and what its products add up to. */
export interface Category {
  readonly id: number
  readonly name: string
  readonly productCount: number
  readonly unitsInStock: number
}

/** What an update did to the cache. */
export interface Invalidation {
  /** False when the cache backend was down: nothing could be bumped. */
  readonly invalidated: boolean
  /** The generation counters bumped (the product, its categories, the lists it is in). */
  readonly bumpedTags: readonly string[]
  /** The categories whose lists and entry the write invalidated (before and after). */
  readonly categories: readonly number[]
}

export const DEFAULT_PAGE: PageRequest = { page: 1, limit: 20 }

const toCategory = (row: CategoryRow): Category => ({
  id: Number(row.id),
  name: row.name,
  productCount: Number(row.product_count),
  unitsInStock: Number(row.units_in_stock),
})

// The cache being down must not take the service down: reads fall back to the database.
function unavailable(error: unknown): boolean {
  return isCellarError(error) && error.code === 'E_BACKEND_UNAVAILABLE'
}

/** The filters as the repository takes them (and hashes them): absent when there are none. */
function repositoryFilters(filters: ProductFilters): Record<string, number> | undefined {
  const out: Record<string, number> = {}
  if (filters.category !== undefined) out.category = filters.category
  if (filters.inStock !== undefined) out.inStock = filters.inStock ? 1 : 0
  return Object.keys(out).length === 0 ? undefined : out
}

// `<entity>:list:filters:<hash of filters>`: the tag of every list with exactly these filters
// (how @cellar/generational spells list tags; see its README's key table).
const filterTag = (filters: Record<string, number> | undefined): string =>
  `product:list:filters:${stableHash(filters ?? null)}`

/** The tags of every list a product row is in: all, its category, its stock state, both. */
function listTagsOf(row: { category_id: number; stock: number }): string[] {
  const category = Number(row.category_id)
  const inStock = Number(row.stock) > 0 ? 1 : 0
  const sets: Array<Record<string, number> | undefined> = [
    undefined,
    { category },
    { inStock },
    { category, inStock },
  ]
  return sets.map(filterTag)
}

/** Options of `new Catalog(...)`. */
export interface CatalogOptions {
  readonly db: Knex
  /** The facade: product pages (`remember` with a lock). */
  readonly cache: CacheManager<string>
  /** Where entities and list pages live. */
  readonly data: CacheGateway
  /** Where the generation counters live (a store that never evicts). */
  readonly counters: CacheGateway
  readonly table: ProductTable
  readonly ttl: Duration
  /** Every repository event (hits and misses counted on the dashboard). */
  readonly onEvent?: (event: RepositoryEvent) => void
  /** A read answered from the database because the cache backend failed with this error. */
  readonly onBypass?: (error: CellarError) => void
}

/**
 * The product catalogue through `@cellar/generational`: products and categories are
 * `CachedRepository`s over `KnexRepository`s, every key carrying the fingerprint of the
 * generation counters it depends on. A product write bumps exactly the counters of what it
 * changes — the product, the lists it was or is in (by category and stock state), and its
 * categories' entries (`dependsOn: ['product:category_id']`) — so lists of other categories
 * stay cached. Product pages go through the facade's `remember` with a lock, so a stampede
 * across processes loads once.
 */
export class Catalog {
  readonly products: CachedRepository<ProductRow, number>
  readonly categories: CachedRepository<CategoryRow, number>
  readonly #db: Knex
  readonly #cache: CacheManager<string>
  readonly #data: CacheGateway
  readonly #resolver: GenerationalResolver
  readonly #productRows: CountingRepository<ProductRow>
  readonly #categoryRows: CountingRepository<CategoryRow>
  readonly #table: ProductTable
  readonly #ttl: Duration
  readonly #onBypass: ((error: CellarError) => void) | undefined
  // Page loads per key, so a read that ran no query can tell a hit from joining a load.
  readonly #loads = new Map<string, number>()
  // The tags of every list key base read so far (bounded), to tell a list key's generation.
  readonly #listTags = new Map<string, string[]>()
  #reads = 0

  constructor(options: CatalogOptions) {
    this.#db = options.db
    this.#cache = options.cache
    this.#data = options.data
    this.#table = options.table
    this.#ttl = options.ttl
    this.#onBypass = options.onBypass
    this.#resolver = new GenerationalResolver(options.counters)
    this.#productRows = productRepository(options.db, options.table.counter)
    this.#categoryRows = categoryRepository(options.db, options.table.counter)
    const shared = { data: options.data, resolver: this.#resolver, ttl: options.ttl }
    this.products = new CachedRepository(this.#productRows, shared)
    this.categories = new CachedRepository(this.#categoryRows, {
      ...shared,
      dependsOn: ['product:category_id'],
    })
    for (const repository of [this.products, this.categories]) {
      repository.on((event) => {
        if (event.type === 'hit' || event.type === 'miss') {
          const trace = traces.getStore()
          if (trace !== undefined && trace.event === undefined) trace.event = event.type
        }
        options.onEvent?.(event)
      })
    }
  }

  /** How many reads (products, lists, categories, pages) the catalog answered since start. */
  get reads(): number {
    return this.#reads
  }

  /** One product; `value` undefined when no row has this id (never cached). */
  find(id: number): Promise<Read<Product | undefined>> {
    const load = async (row: Promise<ProductRow | null>) => {
      const found = await row
      return found === null ? undefined : toProduct(found)
    }
    return this.#read(
      () => load(this.products.getById(id)),
      () => load(this.#productRows.getById(id)),
    )
  }

  /** A page of products matching `filters`, ordered by id. */
  list(filters: ProductFilters, page: PageRequest = DEFAULT_PAGE): Promise<Read<ProductList>> {
    const repoFilters = repositoryFilters(filters)
    this.#rememberList(this.products, repoFilters, page)
    const pageOf = async (result: Promise<{ items: readonly ProductRow[]; total?: number }>) => {
      const { items, total } = await result
      return { products: items.map(toProduct), total: total ?? items.length, ...page }
    }
    return this.#read(
      () => pageOf(this.products.list({ ...page }, repoFilters)),
      () => pageOf(this.#productRows.list({ ...page }, repoFilters)),
    )
  }

  /** One category with its product count and units in stock. */
  category(id: number): Promise<Read<Category | undefined>> {
    const load = async (row: Promise<CategoryRow | null>) => {
      const found = await row
      return found === null ? undefined : toCategory(found)
    }
    return this.#read(
      () => load(this.categories.getById(id)),
      () => load(this.#categoryRows.getById(id)),
    )
  }

  /** Every category. */
  allCategories(): Promise<Read<Category[]>> {
    const load = async (result: Promise<{ items: readonly CategoryRow[] }>) =>
      (await result).items.map(toCategory)
    const page = { page: 1, limit: 100 }
    this.#rememberList(this.categories, undefined, page)
    return this.#read(
      () => load(this.categories.list(page)),
      () => load(this.#categoryRows.list(page)),
    )
  }

  /** The product page through `cache.remember` with `lock: true`: one load across processes. */
  async page(id: number): Promise<Read<ProductPage | undefined>> {
    const key = pageKey(id)
    this.#reads++
    const loadsBefore = this.#loads.get(key) ?? 0
    let loaded = false
    const load = () => {
      loaded = true
      if (this.#loads.size >= 10_000) this.#loads.clear()
      this.#loads.set(key, (this.#loads.get(key) ?? 0) + 1)
      return this.#table.page(id)
    }
    try {
      const value = await this.#cache.remember(key, this.#ttl, load, { lock: true })
      if (loaded) return { value, cache: 'miss' }
      return { value, cache: (this.#loads.get(key) ?? 0) > loadsBefore ? 'shared' : 'hit' }
    } catch (error) {
      if (!unavailable(error)) throw error
      return { value: await this.#table.page(id), cache: 'bypass' }
    }
  }

  /**
   * Writes the row in a transaction (reading it first), then, once committed, bumps the
   * counters of what the write touched and forgets the product's page. Resolves
   * `product: undefined` when no row has this id; an unknown category is `E_INVALID_ARGUMENT`.
   */
  async update(
    id: number,
    patch: ProductPatch,
  ): Promise<{ product: Product | undefined } & Invalidation> {
    const changes: Record<string, unknown> = { updated_at: new Date().toISOString() }
    if (patch.name !== undefined) changes.name = patch.name
    if (patch.priceCents !== undefined) changes.price_cents = patch.priceCents
    if (patch.stock !== undefined) changes.stock = patch.stock
    if (patch.categoryId !== undefined) changes.category_id = patch.categoryId
    const written = await this.#db.transaction(async (trx) => {
      const before = await trx('products').where({ id }).first()
      if (before === undefined) return undefined
      if (patch.categoryId !== undefined) {
        const category = await trx('categories').where({ id: patch.categoryId }).first('id')
        if (category === undefined) {
          throw new InvalidArgumentError(`no category with id ${patch.categoryId}`)
        }
      }
      const after = await this.#productRows.update(id, changes, { transaction: trx })
      return after === null ? undefined : { before: before as ProductRow, after }
    })
    if (written === undefined) {
      return { product: undefined, invalidated: false, bumpedTags: [], categories: [] }
    }
    const { before, after } = written
    const categories = [...new Set([Number(before.category_id), Number(after.category_id)])]
    const tags = [
      ...new Set([
        `product:id:${id}`,
        ...listTagsOf(before),
        ...listTagsOf(after),
        ...categories.map((category) => `product:category_id:${category}`),
      ]),
    ]
    const product = toProduct(after)
    try {
      await this.products.invalidate(tags)
      await this.#cache.forget(pageKey(id))
      await this.#cache.tags([SEARCH_TAG]).flush()
      return { product, invalidated: true, bumpedTags: tags, categories }
    } catch (error) {
      if (!unavailable(error)) throw error
      return { product, invalidated: false, bumpedTags: [], categories }
    }
  }

  /**
   * Whether the list page is cached under its current fingerprint, asked without reading it
   * (so without a hit or a miss): the key spelled as `CachedRepository` spells it.
   */
  async listCached(filters: ProductFilters, page: PageRequest = DEFAULT_PAGE): Promise<boolean> {
    const repoFilters = repositoryFilters(filters)
    const filterHash = stableHash(repoFilters ?? null)!
    const pageHash = stableHash({ filters: repoFilters ?? null, page: { ...page } })!
    const fingerprint = await this.#resolver.fingerprint(this.products.listTags(filterHash))
    return this.#data.exists(listKey('product', 'default', pageHash, fingerprint))
  }

  /**
   * For each key, whether it is the entry its product, category or list is read from now
   * (`true`), or one a write's generation bump left behind (`false`: never read again, gone at
   * its TTL); `undefined` for pages, searches and lists this process has not read.
   */
  async current(keys: readonly string[]): Promise<Array<boolean | undefined>> {
    const wanted = keys.map((key) => this.#generationOf(key))
    const known = wanted.filter((entry) => entry !== undefined)
    const fingerprints = await this.#resolver.fingerprintMany(known.map((entry) => entry.tags))
    let at = 0
    return wanted.map((entry, i) =>
      entry === undefined ? undefined : keys[i] === entry.base + fingerprints[at++],
    )
  }

  #generationOf(key: string): { base: string; tags: string[] } | undefined {
    const entity = /^e:([a-z]+):default:n(\d+):/.exec(key)
    const repository = [this.products, this.categories].find((r) => r.entity === entity?.[1])
    if (entity !== null && repository !== undefined) {
      const id = Number(entity[2])
      const base = entityKey(repository.entity, 'default', id, '')
      return { base, tags: repository.entityTags(id) }
    }
    const base = key.startsWith('l:') ? key.slice(0, key.lastIndexOf(':') + 1) : ''
    const tags = this.#listTags.get(base)
    return tags === undefined ? undefined : { base, tags }
  }

  #rememberList(
    repository: { entity: string; listTags(filterHash: string): string[] },
    filters: Record<string, number> | undefined,
    page: PageRequest,
  ): void {
    const pageHash = stableHash({ filters: filters ?? null, page: { ...page } })!
    const base = listKey(repository.entity, 'default', pageHash, '')
    if (this.#listTags.has(base)) return
    if (this.#listTags.size >= 1000) this.#listTags.clear()
    this.#listTags.set(base, repository.listTags(stableHash(filters ?? null)!))
  }

  async #read<T>(cached: () => Promise<T>, direct: () => Promise<T>): Promise<Read<T>> {
    this.#reads++
    const trace: ReadTrace = { loaded: false }
    try {
      const value = await traces.run(trace, cached)
      const cache: CacheOutcome =
        trace.event === 'hit'
          ? 'hit'
          : trace.loaded || trace.event === undefined
            ? 'miss'
            : 'shared'
      return { value, cache }
    } catch (error) {
      if (!unavailable(error)) throw error
      this.#onBypass?.(error as CellarError)
      return { value: await direct(), cache: 'bypass' }
    }
  }
}
