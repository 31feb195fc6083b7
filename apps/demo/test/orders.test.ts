import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Order, type RunningServer, SEED_ORDERS, startServer } from '../src/index.js'

// Recent orders from a CachedTable (LocalStorageTable) over the seeded orders table: one order
// every two hours back from start, 7 days of them in the cached window.
let demo: RunningServer

beforeAll(async () => {
  demo = await startServer({ port: 0, databaseFile: ':memory:' })
})

afterAll(async () => {
  await demo?.close()
})

interface RecentBody {
  count: number
  served: string
  orders: Order[]
}

const recent = async (hours: number) => {
  const response = await fetch(`${demo.url}/orders/recent?hours=${hours}`)
  expect(response.status).toBe(200)
  const body = (await response.json()) as RecentBody
  expect(response.headers.get('x-table-cache')).toBe(body.served)
  return body
}
const order = (body: unknown) =>
  fetch(`${demo.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const stats = () => demo.context.orders.stats()
const db = () => demo.context.orders

describe('recent orders from a table cache', () => {
  test('a read inside the window comes from storage, with no database query', async () => {
    const before = stats().queries
    // Orders 2, 4, … 24 hours old: twelve of them within 25 hours.
    const body = await recent(25)
    expect(body.served).toBe('hit')
    expect(body.count).toBe(12)
    expect(stats().queries).toBe(before)
    const times = body.orders.map((o) => o.createdAt)
    expect([...times].sort().reverse()).toEqual(times)
  })

  test('a new order is in the very next read: its instant is refreshed, then storage serves', async () => {
    const created = await order({ productId: 2, quantity: 3 })
    expect(created.status).toBe(201)
    const { order: added } = (await created.json()) as { order: Order }
    expect(added).toMatchObject({ productId: 2, quantity: 3, totalCents: 3 * 12_900 })

    const before = stats()
    const next = await recent(25)
    expect(next.served).toBe('hitWithRefresh')
    expect(next.count).toBe(13)
    expect(next.orders[0]).toEqual(added)
    // The refresh reloads each spec of the invalidation — where the row was and where it is,
    // here the same instant — so two queries, each finding the one new row (stored once).
    expect(stats().queries - before.queries).toBe(2)
    expect(stats().refreshedRecords - before.refreshedRecords).toBe(2)

    const again = await recent(25)
    expect(again).toMatchObject({ served: 'hit', count: 13 })
    expect(stats().queries - before.queries).toBe(2)
  })

  test('a read reaching past the window goes wholly to the database', async () => {
    const before = stats().queries
    const body = await recent(24 * 30)
    expect(body.served).toBe('miss')
    expect(body.count).toBe(SEED_ORDERS + 1)
    expect(stats().queries - before).toBe(1)
  })

  test('bad input is a 400 (or a 404 for an unknown product) and writes nothing', async () => {
    const before = (await recent(24 * 30)).count
    expect((await fetch(`${demo.url}/orders/recent?hours=0`)).status).toBe(400)
    expect((await fetch(`${demo.url}/orders/recent?hours=abc`)).status).toBe(400)
    expect((await order({ productId: 999 })).status).toBe(404)
    expect((await order({ productId: 'one' })).status).toBe(400)
    expect((await order({ productId: 1, quantity: 0 })).status).toBe(400)
    expect((await order({ productId: 1, colour: 'red' })).status).toBe(400)
    expect((await recent(24 * 30)).count).toBe(before)
    expect(db().stats().window.lt > new Date().toISOString()).toBe(true)
  })
})
