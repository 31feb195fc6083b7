import type { Knex } from 'knex'

export const ROWS = 100_000
export const CATEGORIES = 50

export interface Product {
  id: number
  category_id: number
  name: string
  price: number
  stock: number
  category_name: string
}

/** Creates `bench_categories` and `bench_products` (100,000 rows, indexed by category) once. */
export async function seed(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('bench_products')) {
    const [row] = await knex('bench_products').count({ n: '*' })
    if (Number(row?.n) === ROWS) return
    await knex.schema.dropTable('bench_products')
  }
  await knex.schema.dropTableIfExists('bench_categories')
  await knex.schema.createTable('bench_categories', (t) => {
    t.increments('id').primary()
    t.string('name', 64).notNullable()
  })
  await knex.schema.createTable('bench_products', (t) => {
    t.increments('id').primary()
    t.integer('category_id').notNullable().index()
    t.string('name', 64).notNullable()
    t.integer('price').notNullable()
    t.integer('stock').notNullable()
  })
  await knex('bench_categories').insert(
    Array.from({ length: CATEGORIES }, (_, i) => ({ name: `category ${i + 1}` })),
  )
  const batch = 500
  for (let start = 0; start < ROWS; start += batch) {
    await knex('bench_products').insert(
      Array.from({ length: batch }, (_, j) => {
        const i = start + j
        return {
          category_id: (i % CATEGORIES) + 1,
          name: `product ${i + 1}`,
          price: 100 + ((i * 37) % 10_000),
          stock: i % 97,
        }
      }),
    )
  }
}
