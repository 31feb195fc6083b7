import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  loadConfig,
  type Product,
  type RunningServer,
  SEED_PRODUCTS,
  startServer,
} from '../src/index.js'

let demo: RunningServer

beforeAll(async () => {
  demo = await startServer({ port: 0, databaseFile: ':memory:', reportDurationMs: 500 })
})

afterAll(async () => {
  await demo?.close()
})

interface ProductBody {
  product: Product
  cache: 'hit' | 'miss'
}
interface ListBody {
  products: Product[]
  total: number
  page: number
  limit: number
}
interface JobBody {
  fencingToken: number
}

const read = <T>(response: Response): Promise<T> => response.json() as Promise<T>
const get = (path: string) => fetch(`${demo.url}${path}`)
const post = (path: string) => fetch(`${demo.url}${path}`, { method: 'POST' })
const patch = (path: string, body: unknown) =>
  fetch(`${demo.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('products (CachedRepository)', () => {
  test('the first read is a miss, the second a hit with the same product', async () => {
    const first = await get('/products/2')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('miss')
    const firstBody = await read<ProductBody>(first)
    expect(firstBody).toMatchObject({ cache: 'miss', product: { id: 2, name: 'Burr grinder' } })

    const second = await get('/products/2')
    expect(second.headers.get('x-cache')).toBe('hit')
    const secondBody = await read<ProductBody>(second)
    expect(secondBody.cache).toBe('hit')
    expect(secondBody.product).toEqual(firstBody.product)
  })

  test("an update bumps the product's generation, so the next read loads the new row", async () => {
    await get('/products/3')
    expect((await get('/products/3')).headers.get('x-cache')).toBe('hit')

    const updated = await patch('/products/3', { priceCents: 1999, name: 'Milk jug, 1 l' })
    expect(updated.status).toBe(200)
    const body = (await updated.json()) as { bumpedTags: string[] }
    expect(body).toMatchObject({
      invalidated: true,
      categories: [3],
      product: { id: 3, priceCents: 1999, name: 'Milk jug, 1 l' },
    })
    expect(body.bumpedTags).toContain('product:id:3')
    expect(body.bumpedTags).toContain('product:category_id:3')

    const after = await get('/products/3')
    expect(after.headers.get('x-cache')).toBe('miss')
    expect((await read<ProductBody>(after)).product).toMatchObject({
      priceCents: 1999,
      name: 'Milk jug, 1 l',
    })
    expect((await get('/products/3')).headers.get('x-cache')).toBe('hit')
  })

  test('an unknown product is a 404 and is not cached', async () => {
    const missing = await get('/products/999')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: 'no product with id 999' })
    expect((await get('/products/999')).headers.get('x-cache')).toBe('miss')
    expect((await patch('/products/999', { stock: 1 })).status).toBe(404)
  })

  test('bad ids and bad update bodies are 400s that change nothing', async () => {
    expect((await get('/products/abc')).status).toBe(400)
    expect((await get('/products/0')).status).toBe(400)
    expect((await patch('/products/4', { priceCents: -5 })).status).toBe(400)
    expect((await patch('/products/4', { colour: 'red' })).status).toBe(400)
    expect((await patch('/products/4', {})).status).toBe(400)
    const unknownCategory = await patch('/products/4', { categoryId: 99 })
    expect(unknownCategory.status).toBe(400)
    expect(await unknownCategory.json()).toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    const product = (await read<ProductBody>(await get('/products/4'))).product
    expect(product).toMatchObject({ priceCents: 3200, categoryId: 3 })
  })
})

describe('lists with filters and pagination, and the stampede', () => {
  test('a list is a miss then a hit, and a write to one of its products reloads it', async () => {
    expect((await get('/products?inStock=true')).headers.get('x-cache')).toBe('miss')
    expect((await get('/products?inStock=true')).headers.get('x-cache')).toBe('hit')
    const updated = await patch('/products/5', { stock: 0 })
    expect(await updated.json()).toMatchObject({ invalidated: true, categories: [3] })
    const after = await get('/products?inStock=true')
    expect(after.headers.get('x-cache')).toBe('miss')
    const { products } = await read<ListBody>(after)
    expect(products.map((product) => product.id)).not.toContain(5)
    expect((await get('/products?inStock=maybe')).status).toBe(400)
  })

  test('pages: limit and page, with the total of the filtered list', async () => {
    const first = await read<ListBody>(await get('/products?category=2&limit=2'))
    expect(first).toMatchObject({ total: 4, page: 1, limit: 2 })
    expect(first.products.map((product) => product.id)).toEqual([2, 8])
    const second = await read<ListBody>(await get('/products?category=2&limit=2&page=2'))
    expect(second.products.map((product) => product.id)).toEqual([9, 10])
    expect((await get('/products?limit=51')).status).toBe(400)
    expect((await get('/products?page=0')).status).toBe(400)
    expect((await get('/products?category=x')).status).toBe(400)
  })

  test('200 concurrent reads of a cold product page run one database query', async () => {
    const before = demo.context.products.queries
    const result = await read<{ databaseQueries: number; outcomes: Record<string, number> }>(
      await post('/dashboard/stampede?id=1'),
    )
    expect(result.databaseQueries).toBe(1)
    expect(demo.context.products.queries - before).toBe(1)
    expect(result.outcomes.miss).toBe(1)
    expect(Object.values(result.outcomes).reduce((sum, n) => sum + n, 0)).toBe(200)
  })

  test('200 concurrent reads of a product whose generation moved run one query', async () => {
    await demo.context.catalog.products.invalidate(['product:id:6'])
    const before = demo.context.products.queries
    const responses = await Promise.all(Array.from({ length: 200 }, () => get('/products/6')))
    expect(responses.every((response) => response.status === 200)).toBe(true)
    expect(demo.context.products.queries - before).toBe(1)
    const misses = responses.filter((response) => response.headers.get('x-cache') === 'miss')
    expect(misses).toHaveLength(1)
  })
})

describe('counters', () => {
  test('increments atomically and reads back as a number', async () => {
    expect(await (await get('/counters/visits')).json()).toEqual({ name: 'visits', value: 0 })
    expect(await (await post('/counters/visits')).json()).toEqual({ name: 'visits', value: 1 })
    expect(await (await post('/counters/visits')).json()).toEqual({ name: 'visits', value: 2 })
    expect(await (await post('/counters/visits?by=10')).json()).toEqual({
      name: 'visits',
      value: 12,
    })
    expect(await (await get('/counters/visits')).json()).toEqual({ name: 'visits', value: 12 })
  })

  test('concurrent increments are all counted', async () => {
    await Promise.all(Array.from({ length: 20 }, () => post('/counters/concurrent')))
    expect(await (await get('/counters/concurrent')).json()).toEqual({
      name: 'concurrent',
      value: 20,
    })
  })

  test('a non-integer step is a 400', async () => {
    expect((await post('/counters/visits?by=1.5')).status).toBe(400)
  })
})

describe('lock-guarded job', () => {
  test('of two concurrent runs one gets 409; tokens increase across runs', async () => {
    const responses = await Promise.all([post('/jobs/report'), post('/jobs/report')])
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([200, 409])
    const done = responses.find((response) => response.status === 200)!
    const first = await read<JobBody>(done)
    expect(first).toMatchObject({ job: 'report', report: { products: SEED_PRODUCTS } })
    expect(first.fencingToken).toBeTypeOf('number')

    // The lock was released, so the next run succeeds with a larger fencing token.
    const again = await post('/jobs/report')
    expect(again.status).toBe(200)
    expect((await read<JobBody>(again)).fencingToken).toBeGreaterThan(first.fencingToken)

    const status = await (await get('/jobs/report')).json()
    expect(status).toMatchObject({ running: false, last: { products: SEED_PRODUCTS } })
  })

  test('a run while someone else holds the lock is a 409 that leaves the lock alone', async () => {
    const held = demo.context.cache.lock('job:report').lock
    expect(await held.acquire()).not.toBe(false)
    const refused = await post('/jobs/report')
    expect(refused.status).toBe(409)
    expect(await (await get('/jobs/report')).json()).toMatchObject({ running: true })
    expect(await held.isOwned()).toBe(true)
    await held.release()
    expect((await post('/jobs/report')).status).toBe(200)
  })
})

describe('the service', () => {
  test('lists its routes and answers unknown paths with a JSON 404', async () => {
    expect((await read<{ routes: string[] }>(await get('/'))).routes.length).toBeGreaterThan(3)
    const missing = await get('/nowhere')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: 'no route for GET /nowhere' })
  })

  test('CACHE_STORE=database keeps the cache in the demo database, lists and stampede included', async () => {
    const onDatabase = await startServer({ port: 0, cacheEnv: { CACHE_STORE: 'database' } })
    try {
      const url = onDatabase.url
      expect(onDatabase.context.labels.store).toBe('KnexStore (the demo database)')
      expect(onDatabase.context.labels.counters).toBe('the cache store')
      expect((await fetch(`${url}/products`)).headers.get('x-cache')).toBe('miss')
      expect((await fetch(`${url}/products`)).headers.get('x-cache')).toBe('hit')
      expect((await fetch(`${url}/search?q=x`)).status).toBe(200)
      const stampede = await fetch(`${url}/dashboard/stampede?id=3`, { method: 'POST' })
      expect(await stampede.json()).toMatchObject({ databaseQueries: 1 })
    } finally {
      await onDatabase.close()
    }
  })

  test('a cache store that was not installed fails at start, naming the package', async () => {
    await expect(startServer({ port: 0, cacheEnv: { CACHE_STORE: 'memcached' } })).rejects.toThrow(
      /@cellar\/memcached/,
    )
    await expect(startServer({ port: 0, cacheEnv: { CACHE_TTL: 'abc' } })).rejects.toThrow(
      /CACHE_TTL/,
    )
  })

  test('reads PORT from the environment with 3000 as the default', () => {
    expect(loadConfig({}).port).toBe(3000)
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080)
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
  })
})
