import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
// knex is CommonJS without named ESM exports, so only its default import works under Node.
import knex, { type Knex } from 'knex'

const SEED = [
  { id: 1, name: 'Espresso beans, 1 kg', price_cents: 2490, stock: 40 },
  { id: 2, name: 'Burr grinder', price_cents: 12900, stock: 7 },
  { id: 3, name: 'Milk jug, 600 ml', price_cents: 1850, stock: 25 },
  { id: 4, name: 'Tamper, 58 mm', price_cents: 3200, stock: 12 },
  { id: 5, name: 'Descaler, 4 doses', price_cents: 990, stock: 60 },
]

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
    if (!(await db.schema.hasTable('products'))) {
      await db.schema.createTable('products', (table) => {
        table.integer('id').primary()
        table.string('name').notNullable()
        table.integer('price_cents').notNullable()
        table.integer('stock').notNullable()
        table.string('updated_at').notNullable()
      })
    }
    const now = new Date().toISOString()
    await db('products')
      .insert(SEED.map((row) => ({ ...row, updated_at: now })))
      .onConflict('id')
      .ignore()
  } catch (error) {
    await db.destroy()
    throw error
  }
  return db
}
