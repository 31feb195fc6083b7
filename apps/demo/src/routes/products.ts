import { Hono } from 'hono'
import type { AppContext } from '../context.js'
import type { ProductPatch } from '../db/products.js'
import { badRequest, positiveInt } from '../http-errors.js'

/**
 * Products through the cache facade: `remember` for one product (`x-cache: hit|miss`, or
 * `bypass` when the cache backend is down and the database answered), lists under the
 * `products` tag, and updates that write the database first, then forget the product and flush
 * the lists' tag.
 */
export function productRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.get('/', async (c) => {
    const inStock = c.req.query('inStock')
    if (inStock !== undefined && inStock !== 'true' && inStock !== 'false') {
      throw badRequest(`inStock must be true or false, got ${JSON.stringify(inStock)}`)
    }
    const read = await ctx.catalog.list(inStock === 'true' ? 'inStock' : 'all')
    c.header('x-cache', read.cache)
    return c.json({ products: read.value, cache: read.cache })
  })

  routes.get('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const read = await ctx.catalog.find(id)
    c.header('x-cache', read.cache)
    if (read.value === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    return c.json({ product: read.value, cache: read.cache })
  })

  routes.patch('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const patch = parsePatch(await c.req.json().catch(() => undefined))
    const { product, invalidated, flushedTags } = await ctx.catalog.update(id, patch)
    if (product === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    return c.json({ product, invalidated, flushedTags })
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
