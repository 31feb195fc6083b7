import { Hono } from 'hono'
import type { AppContext } from '../context.js'
import { badRequest } from '../http-errors.js'

const counterKey = (name: string): string => `counter:${name}`

/** Native atomic counters through `cache.increment`, read back as numbers with `get`. */
export function counterRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.post('/:name', async (c) => {
    const name = c.req.param('name')
    const by = parseDelta(c.req.query('by'))
    const value = await ctx.cache.increment(counterKey(name), by)
    return c.json({ name, value })
  })

  routes.get('/:name', async (c) => {
    const name = c.req.param('name')
    const value = await ctx.cache.get(counterKey(name))
    // A counter never incremented reads as 0, like a fresh native counter would start.
    return c.json({ name, value: typeof value === 'number' ? value : 0 })
  })

  return routes
}

function parseDelta(value: string | undefined): number {
  if (value === undefined) return 1
  const n = Number(value)
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw badRequest(`by must be an integer, got ${JSON.stringify(value)}`)
  }
  return n
}
