import { Hono } from 'hono'
import type { AppContext } from '../context.js'
import type { Product, ProductPatch } from '../db/products.js'
import { badRequest, positiveInt } from '../http-errors.js'

/** Cache key of one product. */
export const productKey = (id: number): string => `product:${id}`

/**
 * Cache-aside reads of products (`x-cache: hit|miss`), and updates that write the database
 * first and then delete the cached copy, so the next read is a miss that loads the new row.
 */
export function productRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.get('/', async (c) => c.json({ products: await ctx.products.list(), source: 'database' }))

  routes.get('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const cached = await ctx.cache.getValue(productKey(id))
    if (cached !== undefined) {
      c.header('x-cache', 'hit')
      return c.json({ product: cached as Product, cache: 'hit' })
    }
    c.header('x-cache', 'miss')
    const product = await ctx.products.find(id)
    if (product === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    await ctx.cache.setValue(productKey(id), product, ctx.productTtl)
    return c.json({ product, cache: 'miss' })
  })

  routes.patch('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const patch = parsePatch(await c.req.json().catch(() => undefined))
    const product = await ctx.products.update(id, patch)
    if (product === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    // Delete rather than overwrite: a concurrent miss could otherwise re-cache the old row last.
    const invalidated = await ctx.cache.delete(productKey(id))
    return c.json({ product, invalidated })
  })

  return routes
}

function parsePatch(body: unknown): ProductPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('body must be a JSON object like {"name": "...", "priceCents": 1200}')
  }
  const { name, priceCents, stock, ...rest } = body as Record<string, unknown>
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw badRequest(`unknown fields: ${unknown.join(', ')}`)
  const patch: ProductPatch = {}
  if (name !== undefined) {
    if (typeof name !== 'string' || name.trim() === '') {
      throw badRequest('name must be a non-empty string')
    }
    patch.name = name.trim()
  }
  if (priceCents !== undefined) patch.priceCents = nonNegativeInt(priceCents, 'priceCents')
  if (stock !== undefined) patch.stock = nonNegativeInt(stock, 'stock')
  if (Object.keys(patch).length === 0) {
    throw badRequest('nothing to update: send name, priceCents or stock')
  }
  return patch
}

function nonNegativeInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${what} must be a non-negative integer`)
  }
  return value
}
