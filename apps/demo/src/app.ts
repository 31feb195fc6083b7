import { Hono } from 'hono'
import type { AppContext } from './context.js'
import { dashboardRoutes } from './dashboard/routes.js'
import { handleError } from './http-errors.js'
import { counterRoutes } from './routes/counters.js'
import { jobRoutes } from './routes/jobs.js'
import { orderRoutes } from './routes/orders.js'
import { categoryRoutes, productRoutes } from './routes/products.js'
import { searchRoutes } from './routes/search.js'

/** The routes the index page lists; keep in step with the modules mounted below. */
export const ROUTES = [
  'GET    /dashboard              the live cache dashboard (SSE at /dashboard/events)',
  'GET    /products?category=&inStock=&page=&limit=   a list page (CachedRepository)',
  'GET    /products/:id           a product (CachedRepository); x-cache: hit|miss|shared|bypass',
  'GET    /products/:id/page      product + category through remember with a lock',
  'DELETE /products/:id/page      forget the cached page (on every instance)',
  'PATCH  /products/:id           update the row, bump exactly the generations it touched',
  'GET    /categories[/:id]       categories with product counts (depend on their products)',
  'GET    /orders/recent?hours=24 recent orders from a table cache; x-table-cache: hit|miss',
  'POST   /orders                 add an order: the next read shows it (invalidation)',
  'GET    /search?q=              rate limited (5 a minute per client): 429 past the limit',
  'POST   /counters/:name?by=1    atomic increment',
  'GET    /counters/:name         read a counter back as a number',
  'POST   /jobs/report            lock-guarded job; 409 while one is running',
  'GET    /jobs/report            whether the job runs, and its last result',
  'POST   /dashboard/stampede     200 concurrent reads of one cold product page',
  'POST   /dashboard/burst        7 searches from one new client: 5 pass, 2 get 429',
  "POST   /dashboard/flush        flush the demo's cache prefix",
]

/** Builds the HTTP application over a context; no I/O happens until a request arrives. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono()
  app.get('/', (c) => c.json({ name: '@cellar/demo', dashboard: '/dashboard', routes: ROUTES }))
  app.route('/products', productRoutes(ctx))
  app.route('/categories', categoryRoutes(ctx))
  app.route('/orders', orderRoutes(ctx))
  app.route('/search', searchRoutes(ctx))
  app.route('/counters', counterRoutes(ctx))
  app.route('/jobs', jobRoutes(ctx))
  app.route(
    '/dashboard',
    dashboardRoutes(ctx, async (path, init) => app.request(path, init)),
  )
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError(handleError)
  return app
}
