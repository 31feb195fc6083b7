import { Hono } from 'hono'
import type { AppContext } from '../context.js'
import { badRequest, positiveInt } from '../http-errors.js'

const HOUR = 3_600_000
const MAX_HOURS = 24 * 365

/**
 * Recent orders from the table cache: `GET /orders/recent?hours=24` is served from storage
 * while the window covers it (`x-table-cache: hit`, or `hitWithRefresh` right after a write),
 * from the database otherwise (`miss`); `POST /orders` inserts and invalidates.
 */
export function orderRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.get('/recent', async (c) => {
    const text = c.req.query('hours')
    const hours = text === undefined ? 24 : positiveInt(text, 'hours')
    if (hours > MAX_HOURS) throw badRequest(`hours must be at most ${MAX_HOURS}`)
    const now = Date.now()
    const { orders, served } = await ctx.orders.between(now - hours * HOUR, now + 1)
    c.header('x-table-cache', served)
    return c.json({ hours, count: orders.length, served, orders })
  })

  routes.post('/', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as
      | { productId?: unknown; quantity?: unknown }
      | undefined
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest('body must be a JSON object like {"productId": 1, "quantity": 2}')
    }
    const { productId, quantity = 1, ...rest } = body as Record<string, unknown>
    const unknown = Object.keys(rest)
    if (unknown.length > 0) throw badRequest(`unknown fields: ${unknown.join(', ')}`)
    const product = wholeNumber(productId, 'productId')
    const count = wholeNumber(quantity, 'quantity')
    const order = await ctx.orders.create(product, count)
    if (order === undefined) return c.json({ error: `no product with id ${product}` }, 404)
    return c.json({ order }, 201)
  })

  routes.get('/stats', (c) => c.json(ctx.orders.stats()))

  return routes
}

function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw badRequest(`${what} must be a positive integer`)
  }
  return value
}
