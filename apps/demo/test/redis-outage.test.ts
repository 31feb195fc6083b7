import { mkdir } from 'node:fs/promises'
import { canStartRedis, type RedisServer, startRedis, uniquePrefix } from '@cellar/test-servers'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RunningServer, type Snapshot, startServer } from '../src/index.js'
import { haveChromium, launchChromium } from './browser.js'

// A private redis-server this file stops and starts; CI=true makes a missing binary fail.
const canRun = canStartRedis()
const withBrowser = canRun && haveChromium()

const OUTPUT = new URL('../test-results/', import.meta.url)

let redis: RedisServer
let demo: RunningServer
let browser: Browser | undefined
let page: Page | undefined

const get = (path: string) => fetch(`${demo.url}${path}`)
const state = async (): Promise<Snapshot> => (await get('/dashboard/state')).json() as never

// Polls until `check` passes: recovery waits on ioredis reconnecting, whose pace is its own.
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`never happened: ${what}`)
}

describe.runIf(canRun)('a Redis that goes away and comes back', () => {
  beforeAll(async () => {
    redis = await startRedis()
    demo = await startServer({
      port: 0,
      cacheEnv: {
        CACHE_STORE: 'redis',
        REDIS_URL: redis.url,
        CACHE_PREFIX: uniquePrefix('demo-outage'),
      },
    })
    if (withBrowser) {
      browser = await launchChromium()
      page = await browser.newPage()
      await page.goto(`${demo.url}/dashboard`)
      await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 30_000 })
    }
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await demo?.close()
    await redis?.stop()
  })

  test('while Redis is up, reads are a miss then a hit', async () => {
    expect((await get('/products/1')).headers.get('x-cache')).toBe('miss')
    expect((await get('/products/1')).headers.get('x-cache')).toBe('hit')
    expect((await state()).backend.up).toBe(true)
  })

  test('Redis stops: the service answers from the database and the page shows a banner', async () => {
    // The facade's own error events, as the dashboard's counters receive them.
    const codes: string[] = []
    const off = demo.context.cache.on('error', ({ error }) => {
      codes.push((error as { code?: string }).code ?? 'none')
    })
    await redis.stop()
    // A product page goes through the facade (remember): an error event, then the database.
    const pageRead = await get('/products/3/page')
    off()
    expect(pageRead.status).toBe(200)
    expect(await pageRead.json()).toMatchObject({ page: { id: 3 }, cache: 'bypass' })
    expect(codes).toContain('E_BACKEND_UNAVAILABLE')
    const response = await get('/products/1')
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBe('bypass')
    expect(await response.json()).toMatchObject({ product: { id: 1 }, cache: 'bypass' })
    const down = await state()
    expect(down.backend).toMatchObject({ up: false, code: 'E_BACKEND_UNAVAILABLE' })
    expect(down.stores.redis?.errors).toBeGreaterThan(0)

    // Writes still reach the database; there is just nothing to invalidate.
    const patched = await fetch(`${demo.url}/products/2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stock: 3 }),
    })
    expect(await patched.json()).toMatchObject({ product: { stock: 3 }, invalidated: false })

    if (page !== undefined) {
      const banner = page.locator('#banner', { hasText: 'E_BACKEND_UNAVAILABLE' })
      await banner.waitFor({ timeout: 30_000 })
      expect(await banner.textContent()).toContain('answered from the database')
      await mkdir(OUTPUT, { recursive: true })
      await page.screenshot({ path: new URL('outage.png', OUTPUT).pathname })
    }
  })

  test('Redis comes back: the banner goes and the cache serves again', async () => {
    await redis.start()
    await eventually(async () => (await state()).backend.up, 'the backend reported up')
    // A restarted server without persistence is empty: the next reads are a miss, then a hit.
    await eventually(
      async () => (await get('/products/1')).headers.get('x-cache') === 'hit',
      'a cache hit after the restart',
    )
    // The restarted server lost the orders' storage table: the demo rebuilt it from the database.
    await eventually(async () => (await state()).orders.reloads >= 1, 'the orders table reloaded')
    const orders = await get('/orders/recent?hours=25')
    expect(orders.headers.get('x-table-cache')).toBe('hit')
    expect(((await orders.json()) as { count: number }).count).toBe(12)
    if (page !== undefined) {
      await page.locator('#banner').waitFor({ state: 'hidden', timeout: 30_000 })
      expect(await page.locator('#banner').isHidden()).toBe(true)
    }
  })
})
