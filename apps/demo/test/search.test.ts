import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { CLIENT_HEADER, type RunningServer, startServer } from '../src/index.js'

// GET /search behind @cellar/rate-limiter's Hono middleware, 3 requests a minute per client.
let demo: RunningServer

beforeAll(async () => {
  demo = await startServer({
    port: 0,
    databaseFile: ':memory:',
    searchLimit: { limit: 3, window: '1m' },
  })
})

afterAll(async () => {
  await demo?.close()
})

const search = (client?: string) =>
  fetch(`${demo.url}/search?q=bean`, {
    headers: client === undefined ? {} : { [CLIENT_HEADER]: client },
  })

describe('a rate-limited endpoint', () => {
  test('three requests pass with the RateLimit fields; the fourth is a 429 that runs nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await search('alice')
      expect(response.status).toBe(200)
      expect(response.headers.get('ratelimit-policy')).toBe('"search";q=3;w=60')
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"search";r=${2 - i};t=\\d+$`))
      expect(response.headers.get('retry-after')).toBeNull()
      const body = (await response.json()) as { products: Array<{ name: string }> }
      expect(body.products.map((product) => product.name)).toEqual([
        'Espresso beans, 1 kg',
        'Decaf beans, 500 g',
      ])
    }
    const queries = demo.context.products.queries
    const refused = await search('alice')
    expect(refused.status).toBe(429)
    expect(await refused.text()).toBe('Too Many Requests')
    expect(refused.headers.get('ratelimit-policy')).toBe('"search";q=3;w=60')
    expect(refused.headers.get('ratelimit')).toMatch(/^"search";r=0;t=\d+$/)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(demo.context.products.queries).toBe(queries)
  })

  test('each client has its own allowance; without a client id, the address is the key', async () => {
    expect((await search('bob')).status).toBe(200)
    expect((await search('alice')).status).toBe(429)
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await search()).status)
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  test("the dashboard's burst: 7 searches from a new client, 3 allowed and 4 refused", async () => {
    for (let run = 0; run < 2; run++) {
      const burst = (await (
        await fetch(`${demo.url}/dashboard/burst`, { method: 'POST' })
      ).json()) as { allowed: number; refused: number; retryAfter: string; results: unknown[] }
      expect(burst).toMatchObject({ allowed: 3, refused: 4 })
      expect(Number(burst.retryAfter)).toBeGreaterThanOrEqual(1)
      expect(burst.results).toHaveLength(7)
    }
  })

  test('concurrent requests of one client: exactly the limit passes', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => search('carol')))
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(3)
    expect(statuses.filter((status) => status === 429)).toHaveLength(17)
  })
})

describe('search results are cached under a tag', () => {
  test('a repeated search is a hit; a product write flushes the tag and the next search sees it', async () => {
    let client = 0
    const find = async (q: string) => {
      const response = await fetch(`${demo.url}/search?q=${q}`, {
        headers: { [CLIENT_HEADER]: `tagged-${client++}` },
      })
      expect(response.status).toBe(200)
      return ((await response.json()) as { products: Array<{ id: number; name: string }> }).products
    }
    const first = await find('decaf')
    expect(first.map((product) => product.name)).toEqual(['Decaf beans, 500 g'])
    const queries = demo.context.products.queries
    expect(await find('decaf')).toEqual(first)
    expect(await find('DECAF')).toEqual(first) // one entry per lower-cased query
    expect(demo.context.products.queries).toBe(queries) // both hits: no query
    const id = first[0]!.id
    const patched = await fetch(`${demo.url}/products/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Decaf beans, 750 g' }),
    })
    expect(patched.status).toBe(200)
    expect((await find('decaf')).map((product) => product.name)).toEqual(['Decaf beans, 750 g'])
    expect(demo.context.products.queries).toBe(queries + 1) // the flushed tag: one new query
  })
})
