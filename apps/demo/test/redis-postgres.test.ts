import { type SqlDatabase, uniquePrefix, usePostgres, useRedis } from '@cellar/test-servers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  loadConfig,
  type RunningServer,
  SEED_PRODUCTS,
  type Snapshot,
  startServer,
} from '../src/index.js'

// The real servers (REDIS_URL or 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432); under CI=true a
// missing one fails instead of skipping.
const redis = await useRedis()
const pg: SqlDatabase | undefined = await usePostgres()

let demo: RunningServer

const get = (path: string) => fetch(`${demo.url}${path}`)
const post = (path: string) => fetch(`${demo.url}${path}`, { method: 'POST' })
const state = async (): Promise<Snapshot> => (await get('/dashboard/state')).json() as never

describe.runIf(redis !== undefined && pg !== undefined)('the demo on Redis and PostgreSQL', () => {
  beforeAll(async () => {
    // The environment a user would set, read the way `pnpm demo` reads it.
    const env = {
      PORT: '0',
      CACHE_STORE: 'redis',
      REDIS_URL: redis!.url,
      CACHE_PREFIX: uniquePrefix('demo-pg'),
      DATABASE_URL: pg!.url,
    }
    const config = loadConfig(env)
    demo = await startServer({
      port: config.port,
      databaseFile: config.databaseFile,
      ...(config.databaseUrl !== undefined && { databaseUrl: config.databaseUrl }),
      cacheEnv: env,
      reportDurationMs: 200,
    })
  }, 60_000)

  afterAll(async () => {
    await demo?.close()
    await pg?.dispose()
  })

  test('runs on RedisStore and a seeded PostgreSQL database', async () => {
    const { labels } = await state()
    expect(labels.store).toMatch(/^RedisStore redis:\/\//)
    expect(labels.database).toMatch(/^PostgreSQL /)
    const { products } = (await (await get('/products')).json()) as { products: unknown[] }
    expect(products).toHaveLength(SEED_PRODUCTS)
    expect((await state()).labels.counters).toBe('the cache store')
  })

  test('the list cached its entities: a product is a hit, listed with its TTL', async () => {
    expect((await get('/products/2')).headers.get('x-cache')).toBe('hit')
    expect((await get('/products/2/page')).headers.get('x-cache')).toBe('miss')
    expect((await get('/products/2/page')).headers.get('x-cache')).toBe('hit')
    const { keys, stores } = await state()
    const row = keys.find((key) => key.key.startsWith('e:product:default:n2:'))
    expect(row?.ttlMs).toBeGreaterThan(0)
    expect(stores.redis).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number) })
    expect(stores.redis!.hits).toBeGreaterThan(0)
  })

  test('an update bumps the lists of its category and forgets its page', async () => {
    expect((await get('/products')).headers.get('x-cache')).toBe('hit')
    await get('/products?category=1')
    await get('/products/2/page')
    const lists = (await state()).lists
    expect(lists.find((list) => list.key === 'all')?.cached).toBe(true)
    expect(lists.find((list) => list.key === 'category=1')?.cached).toBe(true)
    expect((await state()).keys.map((key) => key.key)).toContain('product-page:2')
    const patched = await fetch(`${demo.url}/products/2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ priceCents: 11900 }),
    })
    expect(await patched.json()).toMatchObject({
      product: { id: 2, priceCents: 11900 },
      invalidated: true,
      categories: [2],
    })
    const after = await state()
    expect(after.keys.map((key) => key.key)).not.toContain('product-page:2')
    expect(after.lists.find((list) => list.key === 'all')?.cached).toBe(false)
    expect(after.lists.find((list) => list.key === 'category=1')?.cached).toBe(true)
    const reread = await get('/products/2')
    expect(reread.headers.get('x-cache')).toBe('miss')
    expect(await reread.json()).toMatchObject({ product: { priceCents: 11900 } })
  })

  test('a stampede of 200 concurrent requests runs one PostgreSQL query', async () => {
    const result = (await (await post('/dashboard/stampede?id=4')).json()) as {
      requests: number
      databaseQueries: number
      outcomes: Record<string, number>
    }
    expect(result.requests).toBe(200)
    expect(result.databaseQueries).toBe(1)
    expect(result.outcomes.miss).toBe(1)
  })

  test('recent orders from a RedisStorageTable, and the rate limit on Redis', async () => {
    const recent = await get('/orders/recent?hours=25')
    expect(recent.headers.get('x-table-cache')).toBe('hit')
    expect(((await recent.json()) as { count: number }).count).toBe(12)
    const created = await fetch(`${demo.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 3, quantity: 2 }),
    })
    const { order } = (await created.json()) as { order: { id: number } }
    const next = await get('/orders/recent?hours=25')
    expect(next.headers.get('x-table-cache')).toBe('hitWithRefresh')
    const body = (await next.json()) as { count: number; orders: Array<{ id: number }> }
    expect(body.count).toBe(13)
    expect(body.orders[0]?.id).toBe(order.id)
    expect((await state()).orders.storage).toBe('RedisStorageTable (Redis sorted sets)')
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${demo.url}/search?q=a`, { headers: { 'x-client-id': 'pg' } })
      statuses.push(response.status)
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
  })

  test('counters and the lock-guarded job work on Redis', async () => {
    expect(await (await post('/counters/visits?by=5')).json()).toEqual({ name: 'visits', value: 5 })
    const runs = await Promise.all([post('/jobs/report'), post('/jobs/report')])
    expect(runs.map((run) => run.status).sort()).toEqual([200, 409])
  })

  test('flush empties this cache prefix', async () => {
    expect((await state()).keys.length).toBeGreaterThan(0)
    expect(await (await post('/dashboard/flush')).json()).toEqual({ flushed: true })
    expect((await state()).keys).toEqual([])
  })
})
