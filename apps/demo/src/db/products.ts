import type { Knex } from 'knex'

/** A product as the API returns it (and as it is cached). */
export interface Product {
  id: number
  name: string
  priceCents: number
  stock: number
  updatedAt: string
}

/** The fields an update may change. */
export type ProductPatch = Partial<Pick<Product, 'name' | 'priceCents' | 'stock'>>

interface ProductRow {
  id: number
  name: string
  price_cents: number
  stock: number
  updated_at: string
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  stock: row.stock,
  updatedAt: row.updated_at,
})

/** The source of truth for products: plain SQL through knex, no caching here. */
export class ProductTable {
  readonly #db: Knex
  #queries = 0

  constructor(db: Knex) {
    this.#db = db
  }

  /** How many product reads (`find`, `list`) reached the database since start. */
  get queries(): number {
    return this.#queries
  }

  /** Resolves the product, or `undefined` when no row has this id. */
  async find(id: number): Promise<Product | undefined> {
    this.#queries++
    const row = await this.#db<ProductRow>('products').where({ id }).first()
    return row === undefined ? undefined : toProduct(row)
  }

  /** Every product, by id. */
  async list(): Promise<Product[]> {
    this.#queries++
    const rows = await this.#db<ProductRow>('products').orderBy('id')
    return rows.map(toProduct)
  }

  /** The products with stock left, by id. */
  async listInStock(): Promise<Product[]> {
    this.#queries++
    const rows = await this.#db<ProductRow>('products').where('stock', '>', 0).orderBy('id')
    return rows.map(toProduct)
  }

  /** Applies `patch` and resolves the updated product, or `undefined` when no row has this id. */
  async update(id: number, patch: ProductPatch): Promise<Product | undefined> {
    const changes: Partial<ProductRow> = { updated_at: new Date().toISOString() }
    if (patch.name !== undefined) changes.name = patch.name
    if (patch.priceCents !== undefined) changes.price_cents = patch.priceCents
    if (patch.stock !== undefined) changes.stock = patch.stock
    const updated = await this.#db<ProductRow>('products').where({ id }).update(changes)
    if (updated === 0) return undefined
    const row = await this.#db<ProductRow>('products').where({ id }).first()
    return row === undefined ? undefined : toProduct(row)
  }

  /** How many products there are and what the stock is worth, in cents. */
  async stockValue(): Promise<{ products: number; stockValueCents: number }> {
    const row: { products: number; stockValueCents: number } | undefined = await this.#db(
      'products',
    )
      .select(
        this.#db.raw('count(*) as products'),
        this.#db.raw('coalesce(sum(price_cents * stock), 0) as stockValueCents'),
      )
      .first()
    return {
      products: Number(row?.products ?? 0),
      stockValueCents: Number(row?.stockValueCents ?? 0),
    }
  }
}
