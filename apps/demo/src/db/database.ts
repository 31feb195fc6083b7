import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
// knex is CommonJS without named ESM exports, so only its default import works under Node.
import knex, { type Knex } from 'knex'
import { seedOrders } from './orders.js'

const CATEGORIES = [
  { id: 1, name: 'Coffee' },
  { id: 2, name: 'Brewing gear' },
  { id: 3, name: 'Accessories' },
]

const SEED = [
  { id: 1, category_id: 1, name: 'Espresso beans, 1 kg', price_cents: 2490, stock: 40 },
  { id: 2, category_id: 2, name: 'Burr grinder', price_cents: 12900, stock: 7 },
  { id: 3, category_id: 3, name: 'Milk jug, 600 ml', price_cents: 1850, stock: 25 },
  { id: 4, category_id: 3, name: 'Tamper, 58 mm', price_cents: 3200, stock: 12 },
  { id: 5, category_id: 3, name: 'Descaler, 4 doses', price_cents: 990, stock: 60 },
  { id: 6, category_id: 1, name: 'Filter roast, 250 g', price_cents: 1190, stock: 30 },
  { id: 7, category_id: 1, name: 'Decaf beans, 500 g', price_cents: 1590, stock: 0 },
  { id: 8, category_id: 2, name: 'Pour-over dripper', price_cents: 2400, stock: 18 },
  { id: 9, category_id: 2, name: 'Gooseneck kettle', price_cents: 6900, stock: 0 },
  { id: 10, category_id: 2, name: 'Espresso machine', price_cents: 54900, stock: 3 },
  { id: 11, category_id: 3, name: 'Knock box', price_cents: 2900, stock: 9 },
  { id: 12, category_id: 3, name: 'Scale, 0.1 g', price_cents: 3900, stock: 14 },
]

/** How many products the seed inserts (ids 1 to this). */
export const SEED_PRODUCTS = SEED.length

/** Where the products live: a SQLite file (or `:memory:`), or a PostgreSQL URL. */
export interface DatabaseSource {
  /** SQLite file, created on open, or `':memory:'`; used when `url` is not set. */
  readonly file?: string
  /** `postgres://…` (or `postgresql://…`): PostgreSQL instead of SQLite. */
  readonly url?: string
}

/** The database kind, for banners and the dashboard. */
export function databaseLabel(source: DatabaseSource): string {
  if (source.url !== undefined) {
    const url = new URL(source.url)
    return `PostgreSQL ${url.host}${url.pathname}`
  }
  return `SQLite ${source.file ?? ':memory:'}`
}

function connect(source: DatabaseSource): Knex {
  if (source.url !== undefined) {
    const { protocol } = new URL(source.url)
    if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
      throw new Error(`DATABASE_URL must be a postgres:// URL, got ${JSON.stringify(source.url)}`)
    }
    return knex({ client: 'pg', connection: source.url, pool: { min: 0, max: 5 } })
  }
  return knex({
    client: 'better-sqlite3',
    connection: { filename: source.file ?? ':memory:' },
    useNullAsDefault: true,
    // One connection: a `:memory:` database exists only inside the connection that made it.
    pool: { min: 1, max: 1 },
  })
}

async function createTables(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable('categories'))) {
    await db.schema.createTable('categories', (table) => {
      table.integer('id').primary()
      table.string('name').notNullable()
    })
  }
  if (!(await db.schema.hasTable('products'))) {
    await db.schema.createTable('products', (table) => {
      table.integer('id').primary()
      table.integer('category_id')
      table.string('name').notNullable()
      table.integer('price_cents').notNullable()
      table.integer('stock').notNullable()
      table.string('updated_at').notNullable()
    })
  } else if (!(await db.schema.hasColumn('products', 'category_id'))) {
    // A file database from a demo before categories: add the column, filled below.
    await db.schema.alterTable('products', (table) => table.integer('category_id'))
  }
  if (!(await db.schema.hasTable('orders'))) {
    await db.schema.createTable('orders', (table) => {
      table.increments('id')
      table.integer('product_id').notNullable()
      table.integer('quantity').notNullable()
      table.integer('total_cents').notNullable()
      // Epoch milliseconds: one type on SQLite and PostgreSQL, the score of the table cache.
      table.bigInteger('created_at').notNullable().index()
    })
  }
}

async function seed(db: Knex): Promise<void> {
  await db('categories').insert(CATEGORIES).onConflict('id').ignore()
  const now = new Date().toISOString()
  await db('products')
    .insert(SEED.map((row) => ({ ...row, updated_at: now })))
    .onConflict('id')
    .ignore()
  for (const row of SEED) {
    await db('products')
      .where({ id: row.id })
      .whereNull('category_id')
      .update({ category_id: row.category_id })
  }
  await seedOrders(db, SEED)
}

/**
 * Opens the database (SQLite: creating its directory), creates the tables and inserts the seed
 * rows that are missing; edits made through the API survive a restart with a file database.
 */
export async function openDatabase(source: DatabaseSource): Promise<Knex> {
  const file = source.file ?? ':memory:'
  if (source.url === undefined && file !== ':memory:') {
    await mkdir(dirname(file), { recursive: true })
  }
  const db = connect(source)
  try {
    await createTables(db)
    await seed(db)
  } catch (error) {
    await db.destroy()
    throw error
  }
  return db
}
