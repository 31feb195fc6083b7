import type { Knex } from 'knex'

/** A product as the API returns it. */
export interface Product {
  id: number
  categoryId: number
  name: string
  priceCents: number
  stock: number
  updatedAt: string
}

/** A product page: the product and its category's name, read in one query. */
export interface ProductPage extends Product {
  categoryName: string
}

/** The fields an update may change. */
export type ProductPatch = Partial<Pick<Product, 'name' | 'priceCents' | 'stock' | 'categoryId'>>

/** A product row as the catalogue's repository reads it (`in_stock` is computed: 1 or 0). */
export interface ProductRow {
  id: number
  category_id: number
  name: string
  price_cents: number
  stock: number
  in_stock: number
  updated_at: string
}

export const toProduct = (row: Omit<ProductRow, 'in_stock'>): Product => ({
  id: Number(row.id),
  categoryId: Number(row.category_id),
  name: row.name,
  priceCents: Number(row.price_cents),
  stock: Number(row.stock),
  updatedAt: row.updated_at,
})

/** Counts the product reads that reached the database, wherever they came from. */
export class QueryCounter {
  #count = 0

  /** Queries counted so far. */
  get count(): number {
    return this.#count
  }

  /** Counts one more. */
  add(): void {
    this.#count++
  }
}

/**
 * The products as plain SQL through knex, no caching here: the product page (product and
 * category in one query) and the stock report. Catalogue reads and writes go through the
 * repositories in `catalog.ts`; every read is counted in the same `QueryCounter`.
 */
export class ProductTable {
  readonly #db: Knex
  readonly #counter: QueryCounter

  constructor(db: Knex, counter: QueryCounter = new QueryCounter()) {
    this.#db = db
    this.#counter = counter
  }

  /** How many product reads (pages and catalogue loads) reached the database since start. */
  get queries(): number {
    return this.#counter.count
  }

  /** The counter shared with the catalogue's repositories. */
  get counter(): QueryCounter {
    return this.#counter
  }

  /** The product with its category's name, or `undefined` when no row has this id. */
  async page(id: number): Promise<ProductPage | undefined> {
    this.#counter.add()
    const row = await this.#db('products')
      .leftJoin('categories', 'categories.id', 'products.category_id')
      .where('products.id', id)
      .first('products.*', 'categories.name as category_name')
    if (row === undefined) return undefined
    return { ...toProduct(row), categoryName: row.category_name ?? '' }
  }

  /** Products whose name contains `text` (any case), by id. */
  async search(text: string): Promise<Product[]> {
    this.#counter.add()
    const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const rows = await this.#db('products')
      .whereRaw("lower(name) like ? escape '\\'", [pattern])
      .orderBy('id')
    return rows.map(toProduct)
  }

  /** How many products there are and what the stock is worth, in cents. */
  async stockValue(): Promise<{ products: number; stockValueCents: number }> {
    const row: { products: number; stockValueCents: number } | undefined = await this.#db(
      'products',
    )
      .select(
        this.#db.raw('count(*) as products'),
        this.#db.raw('coalesce(sum(price_cents * stock), 0) as "stockValueCents"'),
      )
      .first()
    return {
      products: Number(row?.products ?? 0),
      stockValueCents: Number(row?.stockValueCents ?? 0),
    }
  }
}
