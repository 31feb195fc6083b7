import type { IncomingMessage } from 'node:http'
import { honoRateLimit } from '@cellar/rate-limiter'
import { type Context, Hono } from 'hono'
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
 * `GET /search?q=` — product search behind `@cellar/rate-limiter`'s Hono middleware: every
 * response carries the IETF `RateLimit-Policy` and `RateLimit` fields; past the limit the
 * answer is a 429 with `Retry-After`, and the search does not run.
 */
export function searchRoutes(ctx: AppContext): Hono {
  const routes = new Hono()
  routes.use('*', honoRateLimit(ctx.limiter, { key: clientKey, policy: 'search' }))
  routes.get('/', async (c) => {
    const q = c.req.query('q') ?? ''
    if (q.length > 100) throw badRequest('q must be at most 100 characters')
    const products = await ctx.products.search(q)
    return c.json({ q, products })
  })
  return routes
}
