import { Hono } from 'hono'
import type { AppContext } from './context.js'
import { handleError } from './http-errors.js'
import { counterRoutes } from './routes/counters.js'
import { jobRoutes } from './routes/jobs.js'
import { productRoutes } from './routes/products.js'

/** The routes the index page lists; keep in step with the modules mounted below. */
export const ROUTES = [
  'GET    /products             list products (straight from the database)',
  'GET    /products/:id         cache-aside read; x-cache: hit|miss',
  'PATCH  /products/:id         update the row, then delete the cached copy',
  'POST   /counters/:name?by=1  atomic increment',
  'GET    /counters/:name       read a counter back as a number',
  'POST   /jobs/report          lock-guarded job; 409 while one is running',
  'GET    /jobs/report          whether the job runs, and its last result',
]

/** Builds the HTTP application over a context; no I/O happens until a request arrives. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono()
  app.get('/', (c) => c.json({ name: '@cellar/demo', routes: ROUTES }))
  app.route('/products', productRoutes(ctx))
  app.route('/counters', counterRoutes(ctx))
  app.route('/jobs', jobRoutes(ctx))
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError(handleError)
  return app
}
