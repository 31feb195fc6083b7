import type { Knex } from 'knex'

/** An order row as the database returns it (`created_at`: epoch ms; a string from PostgreSQL's bigint). */
export interface OrderRow {
  id: number
  product_id: number
  quantity: number
  total_cents: number
  created_at: number | string
}

/** An order as the API returns it. */
export interface Order {
  id: number
  productId: number
  quantity: number
  totalCents: number
  createdAt: string
}

export const toOrder = (row: OrderRow): Order => ({
  id: Number(row.id),
  productId: Number(row.product_id),
  quantity: Number(row.quantity),
  totalCents: Number(row.total_cents),
  createdAt: new Date(Number(row.created_at)).toISOString(),
})

const HOUR = 3_600_000

/** Orders the seed spreads over the past: one every 2 hours, the oldest about 10 days back. */
export const SEED_ORDERS = 120

/**
 * Inserts `SEED_ORDERS` orders, one every two hours back from now (so some are older than the
 * cached window), when the table is empty; a database that already has orders keeps them.
 */
export async function seedOrders(
  db: Knex,
  products: ReadonlyArray<{ id: number; price_cents: number }>,
): Promise<void> {
  const [row] = await db('orders').count({ n: '*' })
  if (Number(row?.n ?? 0) > 0) return
  const now = Date.now()
  const rows = Array.from({ length: SEED_ORDERS }, (_, i) => {
    const product = products[i % products.length]!
    const quantity = 1 + (i % 3)
    return {
      product_id: product.id,
      quantity,
      total_cents: product.price_cents * quantity,
      created_at: now - (i + 1) * 2 * HOUR,
    }
  })
  for (let i = 0; i < rows.length; i += 50) await db('orders').insert(rows.slice(i, i + 50))
}
