import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RunningServer, startServer } from '../src/index.js'
import { haveChromium, launchChromium } from './browser.js'

const OUTPUT = new URL('../test-results/', import.meta.url)

let demo: RunningServer
let browser: Browser
let page: Page

const text = async (selector: string): Promise<string> =>
  (await page.locator(selector).first().textContent())?.trim() ?? ''
const storeCell = (column: number) => `#stores tr[data-store="memory"] td:nth-child(${column})`
const hitsCell = storeCell(2)
const writesCell = storeCell(4)
const entityRow = '#keys tr[data-key^="e:product:default:n1:"]'
const waitFor = (selector: string, hasText?: string | RegExp) =>
  page
    .locator(selector, hasText === undefined ? {} : { hasText })
    .first()
    .waitFor()
const waitNumber = (selector: string, expected: number) =>
  waitFor(selector, new RegExp(`^\\s*${expected}\\s*$`))

describe.runIf(haveChromium())('the dashboard in a real browser', () => {
  beforeAll(async () => {
    demo = await startServer({ port: 0, databaseFile: ':memory:' })
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1180, height: 1000 } })
    // Under the test timeout, so a wait that fails names its locator.
    page.setDefaultTimeout(20_000)
    await page.goto(`${demo.url}/dashboard`)
    await waitFor('#connection', 'live')
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  test('shows what runs underneath and has no banner', async () => {
    await waitFor('#store-label', 'MemoryStore')
    expect(await text('#db-label')).toBe('SQLite :memory:')
    expect(await page.locator('#banner').isHidden()).toBe(true)
  })

  test('load twice: a miss, then a hit; the counters move and the key shows its TTL', async () => {
    await page.selectOption('#product', '1')
    await page.click('#load')
    await waitFor('#result', 'product 1: miss, then hit')
    await waitNumber(hitsCell, 1)
    // The miss loaded the product and wrote its entry: one write.
    await waitNumber(writesCell, 1)
    await page.click('#load')
    await waitFor('#result', 'product 1: hit, then hit')
    await waitNumber(hitsCell, 3)
    expect(await text(writesCell)).toBe('1')
    await waitFor(entityRow)
    expect(await text(`${entityRow} td:nth-child(2)`)).toMatch(/^[45]m \d\ds$/)
    expect(await text(`${entityRow} td:nth-child(3)`)).toBe('current')
  })

  test("update: the product's page key goes, its entry turns old, its category's lists go", async () => {
    const pages = ['/products', '/products?category=1', '/products?category=2', '/products/1/page']
    await page.evaluate((paths) => Promise.all(paths.map((p) => fetch(p))), pages)
    await waitFor('#lists tr[data-list="all"]', /^all\s*cached$/)
    await waitFor('#lists tr[data-list="category=1"]', /cached$/)
    await waitFor('#lists tr[data-list="category=2"]', /cached$/)
    const pageRow = '#keys tr[data-key="product-page:1"]'
    await waitFor(pageRow)
    const entityKey = await page.locator(entityRow).first().getAttribute('data-key')
    expect(await text(`${entityRow} td:nth-child(3)`)).toBe('current')

    await page.click('#update')
    await waitFor('#result', /product 1 now \d+ cents: bumped \d+ generations \(category 1\)/)
    await page.locator(pageRow).waitFor({ state: 'detached' })
    await waitFor(`#keys tr[data-key="${entityKey}"]`, /old$/)
    await waitFor('#lists tr[data-list="category=1"]', 'not cached')
    await waitFor('#lists tr[data-list="all"]', 'not cached')
    expect(await text('#lists tr[data-list="category=2"] td:nth-child(2)')).toBe('cached')
    // Product 2's entry was not touched by the write: still current.
    expect(await text('#keys tr[data-key^="e:product:default:n2:"] td:nth-child(3)')).toBe(
      'current',
    )
  })

  test('search 7 times: 5 allowed, then 429s', async () => {
    await page.click('#burst')
    await waitFor('#result', /^7 searches → 5 allowed, 2 refused \(429, Retry-After: \d+ s\)$/)
  })

  test('add an order: it is in the next read of recent orders', async () => {
    await page.click('#order')
    await waitFor('#result', /^order \d+ added: in the last hour's 1 \(hitWithRefresh\)$/)
    await waitNumber('#orders-refresh', 1)
  })

  test('stampede: 200 concurrent requests, one database query', async () => {
    await page.selectOption('#product', '2')
    const before = Number(await text('#db-queries'))
    await page.click('#stampede')
    await waitFor('#result', /^200 requests → 1 database query \(.*\b1 miss\b/)
    expect(await text('#result')).not.toMatch(/\b([2-9]|\d\d+) miss/)
    await waitNumber('#db-queries', before + 1)
    await waitFor('#keys tr[data-key="product-page:2"]')
    await waitFor('#chart canvas')
    // Let the chart take a few samples with the new hits before the picture.
    await page.waitForFunction('Number(document.body.dataset.snapshots) > 6')
    await mkdir(OUTPUT, { recursive: true })
    await page.screenshot({ path: new URL('dashboard.png', OUTPUT).pathname, fullPage: true })
  })

  test('flush: every key of the cache goes', async () => {
    await waitFor('#keys tr[data-key]')
    await page.click('#flush')
    await waitFor('#result', 'cache flushed')
    await page.locator('#keys tr[data-key]').first().waitFor({ state: 'detached' })
    await waitFor('#keys-note', '0 key(s)')
  })
})
