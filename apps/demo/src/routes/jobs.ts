import { setTimeout as sleep } from 'node:timers/promises'
import { Hono } from 'hono'
import type { AppContext } from '../context.js'

const LAST_REPORT_KEY = 'job:report:last'

/**
 * A lock-guarded job: only one report runs at a time (a second request gets 409), and each
 * run is stamped with the lock's fencing token so stale writers could be refused downstream.
 */
export function jobRoutes(ctx: AppContext): Hono {
  const routes = new Hono()

  routes.post('/report', async (c) => {
    // The TTL bounds how long a crashed run can block the next one.
    const lock = ctx.cache.lock('job:report', '30s')
    const fencingToken = await lock.get()
    if (fencingToken === false) {
      return c.json({ job: 'report', error: 'a report is already running; try again shortly' }, 409)
    }
    try {
      const startedAt = new Date().toISOString()
      await sleep(ctx.reportDurationMs)
      const report = { ...(await ctx.products.stockValue()), startedAt, fencingToken }
      await ctx.cache.forever(LAST_REPORT_KEY, report)
      return c.json({ job: 'report', fencingToken, report })
    } finally {
      await lock.release()
    }
  })

  routes.get('/report', async (c) => {
    const running = await ctx.cache.lock('job:report').lock.isLocked()
    const last = (await ctx.cache.get(LAST_REPORT_KEY)) ?? null
    return c.json({ job: 'report', running, last })
  })

  return routes
}
