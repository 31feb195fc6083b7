import { Hono } from 'hono'
import type { AppContext } from './context.js'
import { dashboardRoutes } from './dashboard/routes.js'
import { handleError } from './http-errors.js'
import { counterRoutes } from './routes/counters.js'
import { jobRoutes } from './routes/jobs.js'
import { productRoutes } from './routes/products.js'

/** The routes the index page lists; keep in step with the modules mounted below. */
export const ROUTES = [
  'GET    /dashboard            the live cache dashboard (SSE at /dashboard/events)',
  'GET    /products?inStock=    a product list, cached under the "products" tag',
  'GET    /products/:id         cache.remember; x-cache: hit|miss (bypass if the cache is down)',
  "PATCH  /products/:id         update the row, forget the product, flush the lists' tag",
  'POST   /counters/:name?by=1  atomic increment',
  'GET    /counters/:name       read a counter back as a number',
  'POST   /jobs/report          lock-guarded job; 409 while one is running',
  'GET    /jobs/report          whether the job runs, and its last result',
  'POST   /dashboard/stampede   200 concurrent reads of one cold product',
  "POST   /dashboard/flush      flush the demo's cache prefix",
]

/** Builds the HTTP application over a context; no I/O happens until a request arrives. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono()
  app.get('/', (c) => c.json({ name: '@cellar/demo', dashboard: '/dashboard', routes: ROUTES }))
  app.route('/products', productRoutes(ctx))
  app.route('/counters', counterRoutes(ctx))
  app.route('/jobs', jobRoutes(ctx))
  app.route(
    '/dashboard',
    dashboardRoutes(ctx, async (path) => app.request(path)),
  )
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError(handleError)
  return app
}
