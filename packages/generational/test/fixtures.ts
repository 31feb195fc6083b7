import type { CacheGateway } from '@cellar/core'
import { KnexRepository } from '@cellar/knex'
import type { Knex } from 'knex'

export interface Product {
  id: number
  category_id: number
  name: string
  price: number
  category_name: string
}

export interface Category {
  id: number
  name: string
}

export const CATEGORIES = 3
export const PRODUCTS = 30

/** Creates and fills `categories` and `products` (product i is in category i % 3 + 1). */
export async function seed(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('products')
  await knex.schema.dropTableIfExists('categories')
  await knex.schema.createTable('categories', (t) => {
    t.increments('id').primary()
    t.string('name', 64).notNullable()
  })
  await knex.schema.createTable('products', (t) => {
    t.increments('id').primary()
    t.integer('category_id').notNullable()
    t.string('name', 64).notNullable()
    t.integer('price').notNullable()
  })
  await knex('categories').insert(
    Array.from({ length: CATEGORIES }, (_, i) => ({ name: `category ${i + 1}` })),
  )
  await knex('products').insert(
    Array.from({ length: PRODUCTS }, (_, i) => ({
      category_id: (i % CATEGORIES) + 1,
      name: `product ${i + 1}`,
      price: 100 + i,
    })),
  )
}

/** Products joined with their category's name. */
export function productRepository(knex: Knex): KnexRepository<Product, Partial<Product>> {
  return new KnexRepository<Product, Partial<Product>>(knex, {
    table: 'products',
    entity: 'product',
    select: (db) =>
      db('products')
        .join('categories', 'categories.id', 'products.category_id')
        .select('products.*', 'categories.name as category_name'),
    filters: { category_id: 'products.category_id', name: 'products.name' },
    queries: {
      cheapest: async (db, args) => {
        const { below } = args as { below: number }
        const row = await db('products').where('price', '<', below).min({ price: 'price' }).first()
        return row?.price ?? null
      },
    },
  })
}

/** Categories, plain. */
export function categoryRepository(knex: Knex): KnexRepository<Category> {
  return new KnexRepository<Category>(knex, { table: 'categories', entity: 'category' })
}

/** The gateway's key for a cached entity is not needed by users; tests read the store's keys. */
export async function dataKeys(data: CacheGateway): Promise<string[]> {
  const keys: string[] = []
  for await (const key of data.keys()) keys.push(key)
  return keys
}
