import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { pageKey } from '../catalog.js'
import type { AppContext } from '../context.js'
import { badRequest, positiveInt } from '../http-errors.js'
import { CLIENT_HEADER } from '../routes/search.js'
import { SnapshotReader } from './snapshot.js'

/** Sends a request through the app itself (the stampede's 200 concurrent requests). */
export type SelfFetch = (path: string, init?: RequestInit) => Promise<Response>

const require = createRequire(import.meta.url)

// The page's own files, and uPlot's from node_modules: no build step, no CDN.
const ASSETS: Record<string, { path: string; type: string }> = {
  'app.js': { path: new URL('page.js', import.meta.url).pathname, type: 'text/javascript' },
  'style.css': { path: new URL('page.css', import.meta.url).pathname, type: 'text/css' },
  'uPlot.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  'uPlot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
}
const PAGE = new URL('page.html', import.meta.url).pathname

const STAMPEDE_SIZE = 200
const BURST_SIZE = 7

/**
 * The live dashboard: the page and its assets, a JSON snapshot, the same snapshot pushed over
 * Server-Sent Events on every cache event (and once a second for TTLs and the chart), and the
 * actions behind the page's buttons that the product routes don't already cover.
 */
export function dashboardRoutes(ctx: AppContext, selfFetch: SelfFetch): Hono {
  const routes = new Hono()
  const reader = new SnapshotReader(ctx)

  routes.get('/', async (c) => c.html(await readFile(PAGE, 'utf8')))

  routes.get('/assets/:name', async (c) => {
    const asset = ASSETS[c.req.param('name')]
    if (asset === undefined) return c.json({ error: 'no such asset' }, 404)
    c.header('content-type', asset.type)
    return c.body(await readFile(asset.path))
  })

  routes.get('/state', async (c) => c.json(await reader.read()))

  routes.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let sending = false
      let again = false
      const send = async () => {
        if (sending) {
          again = true
          return
        }
        sending = true
        try {
          do {
            again = false
            await stream.writeSSE({ event: 'snapshot', data: JSON.stringify(await reader.read()) })
          } while (again && !stream.aborted)
        } finally {
          sending = false
        }
      }
      // Bursts of events (a stampede) collapse into one snapshot per 100 ms.
      let pending: NodeJS.Timeout | undefined
      const unsubscribe = ctx.stats.subscribe(() => {
        pending ??= setTimeout(() => {
          pending = undefined
          void send()
        }, 100)
      })
      const tick = setInterval(() => void send(), 1000)
      await send()
      await new Promise<void>((resolve) => stream.onAbort(resolve))
      unsubscribe()
      clearInterval(tick)
      clearTimeout(pending)
    }),
  )

  routes.post('/stampede', async (c) => {
    const id = positiveInt(c.req.query('id') ?? '1', 'product id')
    const requests = positiveInt(c.req.query('requests') ?? String(STAMPEDE_SIZE), 'requests')
    if (requests > 1000) throw badRequest('requests must be at most 1000')
    // Start cold, so every request misses at once; `forget=false` when another instance did.
    if (c.req.query('forget') !== 'false') await ctx.cache.forget(pageKey(id))
    const before = ctx.products.queries
    const responses = await Promise.all(
      Array.from({ length: requests }, () => selfFetch(`/products/${id}/page`)),
    )
    const outcomes: Record<string, number> = {}
    for (const response of responses) {
      const label = response.headers.get('x-cache') ?? String(response.status)
      outcomes[label] = (outcomes[label] ?? 0) + 1
    }
    return c.json({
      requests,
      databaseQueries: ctx.products.queries - before,
      outcomes,
      instance: ctx.labels.instance,
    })
  })

  let bursts = 0
  routes.post('/burst', async (c) => {
    // A new client each time, so every burst starts with the full allowance.
    const client = `dashboard-burst-${++bursts}-${Date.now()}`
    const results: Array<{ status: number; rateLimit: string | null; retryAfter: string | null }> =
      []
    for (let i = 0; i < BURST_SIZE; i++) {
      const response = await selfFetch('/search?q=espresso', {
        headers: { [CLIENT_HEADER]: client },
      })
      await response.arrayBuffer()
      results.push({
        status: response.status,
        rateLimit: response.headers.get('ratelimit'),
        retryAfter: response.headers.get('retry-after'),
      })
    }
    const refused = results.filter((result) => result.status === 429)
    return c.json({
      requests: BURST_SIZE,
      allowed: results.filter((result) => result.status === 200).length,
      refused: refused.length,
      retryAfter: refused[0]?.retryAfter ?? null,
      results,
    })
  })

  routes.post('/flush', async (c) => {
    await ctx.cache.flush()
    return c.json({ flushed: true })
  })

  return routes
}
