import { Hono } from 'hono'
import { type PageRequest, type ProductFilters, pageKey } from '../catalog.js'
import type { AppContext } from '../context.js'
import type { ProductPatch } from '../db/products.js'
import { badRequest, positiveInt } from '../http-errors.js'

const MAX_LIMIT = 50

/**
 * The catalogue: lists (filters and pagination), products and categories through
 * `CachedRepository` (`x-cache: hit|miss|shared`, or `bypass` when the cache backend is down
 * and the database answered), product pages through `remember` with a lock, and updates that
 * write the database first, then bump exactly the generations the write touched.
 */
export function productRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.get('/', async (c) => {
    const filters = parseFilters(c.req.query('category'), c.req.query('inStock'))
    const page: PageRequest = {
      page: optionalInt(c.req.query('page'), 'page') ?? 1,
      limit: optionalInt(c.req.query('limit'), 'limit') ?? 20,
    }
    if (page.limit > MAX_LIMIT) throw badRequest(`limit must be at most ${MAX_LIMIT}`)
    const read = await ctx.catalog.list(filters, page)
    c.header('x-cache', read.cache)
    return c.json({ ...read.value, filters, cache: read.cache })
  })

  routes.get('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const read = await ctx.catalog.find(id)
    c.header('x-cache', read.cache)
    if (read.value === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    return c.json({ product: read.value, cache: read.cache })
  })

  routes.get('/:id/page', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const read = await ctx.catalog.page(id)
    c.header('x-cache', read.cache)
    if (read.value === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    return c.json({ page: read.value, cache: read.cache, instance: ctx.labels.instance })
  })

  routes.delete('/:id/page', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    return c.json({ forgotten: await ctx.cache.forget(pageKey(id)) })
  })

  routes.patch('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'product id')
    const patch = parsePatch(await c.req.json().catch(() => undefined))
    const { product, ...invalidation } = await ctx.catalog.update(id, patch)
    if (product === undefined) return c.json({ error: `no product with id ${id}` }, 404)
    // After the invalidations, on the same bus connection: see notices.ts.
    if (invalidation.invalidated) await ctx.notices?.publish(id)
    return c.json({ product, ...invalidation, instance: ctx.labels.instance })
  })

  return routes
}

/** Categories with what their products add up to; each depends on its own products only. */
export function categoryRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.get('/', async (c) => {
    const read = await ctx.catalog.allCategories()
    c.header('x-cache', read.cache)
    return c.json({ categories: read.value, cache: read.cache })
  })

  routes.get('/:id', async (c) => {
    const id = positiveInt(c.req.param('id'), 'category id')
    const read = await ctx.catalog.category(id)
    c.header('x-cache', read.cache)
    if (read.value === undefined) return c.json({ error: `no category with id ${id}` }, 404)
    return c.json({ category: read.value, cache: read.cache })
  })

  return routes
}

function optionalInt(value: string | undefined, what: string): number | undefined {
  return value === undefined ? undefined : positiveInt(value, what)
}

function parseFilters(category: string | undefined, inStock: string | undefined): ProductFilters {
  if (inStock !== undefined && inStock !== 'true' && inStock !== 'false') {
    throw badRequest(`inStock must be true or false, got ${JSON.stringify(inStock)}`)
  }
  return {
    ...(category !== undefined && { category: positiveInt(category, 'category') }),
    ...(inStock !== undefined && { inStock: inStock === 'true' }),
  }
}

function parsePatch(body: unknown): ProductPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('body must be a JSON object like {"name": "...", "priceCents": 1200}')
  }
  const { name, priceCents, stock, categoryId, ...rest } = body as Record<string, unknown>
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
  if (categoryId !== undefined) {
    patch.categoryId = nonNegativeInt(categoryId, 'categoryId')
    if (patch.categoryId === 0) throw badRequest('categoryId must be a positive integer')
  }
  if (Object.keys(patch).length === 0) {
    throw badRequest('nothing to update: send name, priceCents, stock or categoryId')
  }
  return patch
}

function nonNegativeInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${what} must be a non-negative integer`)
  }
  return value
}
