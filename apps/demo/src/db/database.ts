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

/**
 * Opens the SQLite database (creating its directory), creates the tables and inserts the seed
 * rows that are missing; edits made through the API survive a restart with a file database.
 */
export async function openDatabase(file: string): Promise<Knex> {
  if (file !== ':memory:') await mkdir(dirname(file), { recursive: true })
  const db = knex({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    // One connection: a `:memory:` database exists only inside the connection that made it.
    pool: { min: 1, max: 1 },
  })
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
