import { AsyncLocalStorage } from 'node:async_hooks'
import type {
  CursorPage,
  ListResult,
  OffsetPage,
  Repository,
  WriteOptions,
} from '@cellar/generational'
import { KnexRepository } from '@cellar/knex'
import type { Knex } from 'knex'
import type { ProductRow, QueryCounter } from './db/products.js'

/** A category with what its products add up to (a join: it depends on the products). */
export interface CategoryRow {
  id: number
  name: string
  product_count: number | string
  units_in_stock: number | string
}

/** What one read through a cached repository did, collected while it runs. */
export interface ReadTrace {
  /** The repository's event for this read: its own key was found, or not. */
  event?: 'hit' | 'miss'
  /** This read ran a database query itself (a caller that joined another's load did not). */
  loaded: boolean
}

/** The trace of the read running in the current async context. */
export const traces = new AsyncLocalStorage<ReadTrace>()

/**
 * A `Repository` that forwards to another and counts every read that reaches the database
 * (`getById`, `getByIds`, `list`, `query`), marking the current read's trace as having loaded.
 */
export class CountingRepository<T> implements Repository<T, number> {
  readonly entity: string
  readonly #inner: KnexRepository<T & object>
  readonly #counter: QueryCounter

  constructor(inner: KnexRepository<T & object>, counter: QueryCounter) {
    this.#inner = inner
    this.#counter = counter
    this.entity = inner.entity
  }

  idOf(item: T): number {
    return Number(this.#inner.idOf(item as T & object))
  }

  getById(id: number): Promise<T | null> {
    this.#loaded()
    return this.#inner.getById(id)
  }

  getByIds(ids: readonly number[]): Promise<T[]> {
    this.#loaded()
    return this.#inner.getByIds(ids)
  }

  list(page: OffsetPage | CursorPage, filters?: unknown): Promise<ListResult<T>> {
    this.#loaded()
    return this.#inner.list(page, filters)
  }

  query(name: string, args?: unknown): Promise<unknown> {
    this.#loaded()
    return this.#inner.query(name, args)
  }

  create(data: Partial<T>, options?: WriteOptions): Promise<T> {
    return this.#inner.create(data as Partial<T & object>, options)
  }

  update(id: number, data: Partial<T>, options?: WriteOptions): Promise<T | null> {
    return this.#inner.update(id, data as Partial<T & object>, options)
  }

  delete(id: number, options?: WriteOptions): Promise<boolean> {
    return this.#inner.delete(id, options)
  }

  afterCommit(transaction: unknown, action: () => Promise<void>): void {
    this.#inner.afterCommit(transaction, action)
  }

  #loaded(): void {
    this.#counter.add()
    const trace = traces.getStore()
    if (trace !== undefined) trace.loaded = true
  }
}

/**
 * Products through `KnexRepository`: every read starts from the table plus a computed
 * `in_stock` (1 or 0), so `inStock` is a plain equality filter like `category`.
 */
export function productRepository(db: Knex, counter: QueryCounter): CountingRepository<ProductRow> {
  const inner = new KnexRepository<ProductRow>(db, {
    table: 'products',
    entity: 'product',
    // A derived table named like the table, so the repository's `products.id` still resolves.
    select: (k) =>
      k
        .select('*')
        .from(
          k('products')
            .select('id', 'category_id', 'name', 'price_cents', 'stock', 'updated_at')
            .select(k.raw('case when stock > 0 then 1 else 0 end as in_stock'))
            .as('products'),
        ),
    filters: { category: 'products.category_id', inStock: 'products.in_stock' },
  })
  return new CountingRepository(inner, counter)
}

/** Categories with their product count and units in stock (a join over the products). */
export function categoryRepository(
  db: Knex,
  counter: QueryCounter,
): CountingRepository<CategoryRow> {
  const inner = new KnexRepository<CategoryRow>(db, {
    table: 'categories',
    entity: 'category',
    select: (k) =>
      k
        .select('*')
        .from(
          k('categories')
            .leftJoin('products', 'products.category_id', 'categories.id')
            .groupBy('categories.id', 'categories.name')
            .select('categories.id', 'categories.name')
            .select(k.raw('count(products.id) as product_count'))
            .select(k.raw('coalesce(sum(products.stock), 0) as units_in_stock'))
            .as('categories'),
        ),
  })
  return new CountingRepository(inner, counter)
}
