import type { IncomingMessage } from 'node:http'
import { honoRateLimit } from '@cellar/rate-limiter'
import { type Context, Hono } from 'hono'
import { SEARCH_TAG } from '../catalog.js'
import type { AppContext } from '../context.js'
import { badRequest } from '../http-errors.js'

/** The header a client may send to be limited by name instead of by address (tests, the dashboard). */
export const CLIENT_HEADER = 'x-client-id'

/** A client's limiter key: its `x-client-id`, else its socket address. */
function clientKey(c: Context): string {
  const named = c.req.header(CLIENT_HEADER)
  if (named) return `client:${named}`
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return `ip:${incoming?.socket.remoteAddress ?? 'in-process'}`
}

/**
 * `GET /search?q=` — product search, cached under a tag, behind `@cellar/rate-limiter`'s Hono middleware: every
 * response carries the IETF `RateLimit-Policy` and `RateLimit` fields; past the limit the
 * answer is a 429 with `Retry-After`, and the search does not run.
 */
export function searchRoutes(ctx: AppContext): Hono {
  const routes = new Hono()
  routes.use('*', honoRateLimit(ctx.limiter, { key: clientKey, policy: 'search' }))
  routes.get('/', async (c) => {
    const q = c.req.query('q') ?? ''
    if (q.length > 100) throw badRequest('q must be at most 100 characters')
    // Cached under the `product-search` tag: any product write flushes every cached search at
    // once (one counter bump, whatever the number of cached queries).
    const products = await ctx.cache
      .tags([SEARCH_TAG])
      .remember(`search:${q.toLowerCase()}`, '1m', () => ctx.products.search(q))
    return c.json({ q, products })
  })
  return routes
}
