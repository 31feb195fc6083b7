import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Snapshot } from '../src/index.js'
import { type Instance, startInstance } from '../src/instances.js'

// Two real demo processes (`node --import tsx src/main.ts`, so the packages' dist/ must be built)
// with CACHE_STORE=tiered on one Redis and one SQLite file, as `pnpm --filter @cellar/demo two`
// runs them. Under CI=true a missing Redis fails instead of skipping.
const redis = await useRedis()

let dir: string
let prefix: string
let a: Instance
let b: Instance
const output: string[] = []

const json = async <T>(response: Response | Promise<Response>): Promise<T> => {
  const answered = await response
  expect(answered.ok).toBe(true)
  return (await answered.json()) as T
}
const state = (instance: Instance) => json<Snapshot>(fetch(`${instance.url}/dashboard/state`))
const pageOf = (instance: Instance, id: number) =>
  json<{ page: { priceCents: number }; cache: string }>(
    fetch(`${instance.url}/products/${id}/page`),
  )

interface Stampede {
  databaseQueries: number
  outcomes: Record<string, number>
}

describe.runIf(redis !== undefined)('two instances behind one Redis', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cellar-demo-two-'))
    prefix = uniquePrefix('demo-two')
    const env = {
      ...process.env,
      PORT: '0',
      CACHE_STORE: 'tiered',
      REDIS_URL: redis!.url,
      CACHE_PREFIX: prefix,
      SQLITE_FILE: join(dir, 'demo.sqlite'),
    }
    const log = (line: string) => output.push(line)
    // One after the other: the first creates and seeds the database file.
    a = await startInstance('A', env, log)
    b = await startInstance('B', env, log)
  }, 120_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    // Generation counters have no TTL: remove every key the two instances left under the prefix.
    if (redis !== undefined && prefix !== undefined) {
      const client = new Redis(redis.url)
      try {
        const keys: string[] = []
        for await (const batch of client.scanStream({ match: `*${prefix}*`, count: 500 })) {
          keys.push(...(batch as string[]))
        }
        if (keys.length > 0) await client.del(...keys)
      } finally {
        client.disconnect()
      }
    }
  })

  test('both run the tiered store, each under its own name', async () => {
    const [sa, sb] = await Promise.all([state(a), state(b)])
    expect(sa.labels.store).toMatch(/^TieredStore: MemoryStore L1 \+ RedisStore L2 redis:\/\//)
    expect(sa.labels.instance).not.toBe(sb.labels.instance)
    expect(sa.notices).toEqual({ count: 0, last: [] })
  })

  test('a stampede on both instances at once loads the product page once in total', async () => {
    expect(await json(fetch(`${a.url}/products/3/page`, { method: 'DELETE' }))).toBeDefined()
    const stampede = (instance: Instance) =>
      json<Stampede>(
        fetch(`${instance.url}/dashboard/stampede?id=3&requests=100&forget=false`, {
          method: 'POST',
        }),
      )
    const [ra, rb] = await Promise.all([stampede(a), stampede(b)])
    expect(ra.databaseQueries + rb.databaseQueries).toBe(1)
    const total = (outcome: string) => (ra.outcomes[outcome] ?? 0) + (rb.outcomes[outcome] ?? 0)
    expect(total('miss')).toBe(1)
    const answered = [...Object.values(ra.outcomes), ...Object.values(rb.outcomes)]
    expect(answered.reduce((sum, n) => sum + n, 0)).toBe(200)
    expect(Object.keys({ ...ra.outcomes, ...rb.outcomes }).every((k) => /^[a-z]+$/.test(k))).toBe(
      true,
    )
  })

  test('a write on A is seen on B as soon as its notice has arrived', async () => {
    expect((await pageOf(b, 4)).page.priceCents).toBe(3200)
    expect(await pageOf(b, 4)).toMatchObject({ cache: 'hit', page: { priceCents: 3200 } })
    await json(fetch(`${b.url}/products/4`))
    expect((await json<{ cache: string }>(fetch(`${b.url}/products/4`))).cache).toBe('hit')
    const noticed = (await state(b)).notices!.count

    const write = await json<{ invalidated: boolean }>(
      fetch(`${a.url}/products/4`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ priceCents: 4100 }),
      }),
    )
    expect(write.invalidated).toBe(true)
    // The notice follows the write's invalidations on one Redis connection: once B has it, B
    // has dropped the old entries from its L1.
    for (let i = 0; (await state(b)).notices!.count === noticed; i++) {
      if (i > 1000) throw new Error(`B never received the write notice:\n${output.join('\n')}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(await pageOf(b, 4)).toMatchObject({ cache: 'miss', page: { priceCents: 4100 } })
    const product = await json<{ product: { priceCents: number } }>(fetch(`${b.url}/products/4`))
    expect(product.product.priceCents).toBe(4100)
    const list = await json<{ products: Array<{ id: number; priceCents: number }> }>(
      fetch(`${b.url}/products?category=3`),
    )
    expect(list.products.find((p) => p.id === 4)?.priceCents).toBe(4100)
    // And A's own reads, of course.
    expect((await pageOf(a, 4)).page.priceCents).toBe(4100)
  })
})
