import { stableHash } from '@cellar/generational'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  DEFAULT_PAGE,
  type KeyRow,
  type Product,
  type RunningServer,
  type Snapshot,
  startServer,
} from '../src/index.js'

// The catalogue through @cellar/generational: a write bumps the generations of exactly what it
// touched. Every read's `x-cache` comes from the repository's own hit/miss event; the database
// side is counted by the demo's query counter (every repository load goes through it).
let demo: RunningServer

beforeAll(async () => {
  demo = await startServer({ port: 0, databaseFile: ':memory:' })
})

afterAll(async () => {
  await demo?.close()
})

const get = (path: string) => fetch(`${demo.url}${path}`)
const patch = async (path: string, body: unknown) => {
  const response = await fetch(`${demo.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as { product: Product; categories: number[]; bumpedTags: string[] }
}
const queries = () => demo.context.products.queries

/** Reads each path; resolves each one's `x-cache`. */
async function outcomes(paths: readonly string[]): Promise<Record<string, string | null>> {
  const result: Record<string, string | null> = {}
  for (const path of paths) {
    const response = await get(path)
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    result[path] = response.headers.get('x-cache')
  }
  return result
}

const same = (paths: readonly string[], value: string) =>
  Object.fromEntries(paths.map((path) => [path, value]))

describe('a write invalidates exactly what depends on it', () => {
  test('a stock change in category 1: its lists and its category miss, the others still hit', async () => {
    const dependent = [
      '/products',
      '/products?category=1',
      '/products?category=1&inStock=true',
      '/products?category=1&limit=2&page=2',
      '/products?inStock=true',
      '/categories/1',
    ]
    const independent = [
      '/products?category=2',
      '/products?category=3',
      '/products?category=2&inStock=true',
      '/products?inStock=false',
      '/categories/2',
      '/categories/3',
    ]
    const all = [...dependent, ...independent]
    expect(await outcomes(all)).toEqual(same(all, 'miss'))
    expect(await outcomes(all)).toEqual(same(all, 'hit'))

    // Product 1 (category 1) stays in stock, so "inStock=false" lists are not about it.
    const write = await patch('/products/1', { stock: 41 })
    expect(write.categories).toEqual([1])
    expect(write.product).toMatchObject({ id: 1, stock: 41, categoryId: 1 })

    let before = queries()
    expect(await outcomes(independent)).toEqual(same(independent, 'hit'))
    expect(queries() - before).toBe(0)

    before = queries()
    expect(await outcomes(dependent)).toEqual(same(dependent, 'miss'))
    // One query per list page and one for the category: nothing else was reloaded.
    expect(queries() - before).toBe(dependent.length)
    const category = (await (await get('/categories/1')).json()) as {
      category: { unitsInStock: number }
      cache: string
    }
    expect(category.cache).toBe('hit')
    // Seed stock of category 1: 40 + 30 + 0, then product 1 went from 40 to 41.
    expect(category.category.unitsInStock).toBe(71)
  })

  test('moving a product between categories invalidates both, and only both', async () => {
    const paths = ['/products?category=1', '/products?category=2', '/products?category=3']
    const categories = ['/categories/1', '/categories/2', '/categories/3']
    await outcomes([...paths, ...categories])
    expect(await outcomes([...paths, ...categories])).toEqual(
      same([...paths, ...categories], 'hit'),
    )

    const write = await patch('/products/2', { categoryId: 3 })
    expect(write.categories).toEqual([2, 3])

    expect(await outcomes(['/products?category=1', '/categories/1'])).toEqual(
      same(['/products?category=1', '/categories/1'], 'hit'),
    )
    const moved = await outcomes([
      '/products?category=2',
      '/products?category=3',
      '/categories/2',
      '/categories/3',
    ])
    expect(Object.values(moved)).toEqual(['miss', 'miss', 'miss', 'miss'])
    const ids = async (path: string) =>
      ((await (await get(path)).json()) as { products: Product[] }).products.map((p) => p.id)
    expect(await ids('/products?category=2')).not.toContain(2)
    expect(await ids('/products?category=3')).toContain(2)
  })

  test('the dashboard shows which watched lists are cached, without reading them', async () => {
    await outcomes(['/products?category=1', '/products?category=2', '/products?category=3'])
    const state = async () => ((await (await get('/dashboard/state')).json()) as Snapshot).lists
    const hitsBefore = demo.context.stats.stores.memory?.hits
    expect(await state()).toEqual(
      expect.arrayContaining([
        { key: 'category=1', cached: true },
        { key: 'category=2', cached: true },
        { key: 'category=3', cached: true },
      ]),
    )
    expect(demo.context.stats.stores.memory?.hits).toBe(hitsBefore)
    await patch('/products/11', { priceCents: 3100 })
    const lists = await state()
    expect(lists.find((list) => list.key === 'category=3')?.cached).toBe(false)
    expect(lists.find((list) => list.key === 'category=1')?.cached).toBe(true)
    expect(lists.find((list) => list.key === 'category=2')?.cached).toBe(true)
  })

  test('the key list marks the keys a write left behind old, and only those', async () => {
    // A server of its own, so the listing (at most 100 keys) holds only this test's keys.
    const own = await startServer({ port: 0, databaseFile: ':memory:' })
    try {
      const read = (path: string) => fetch(`${own.url}${path}`).then((r) => r.arrayBuffer())
      const keys = async (): Promise<readonly KeyRow[]> =>
        ((await (await fetch(`${own.url}/dashboard/state`)).json()) as Snapshot).keys
      const listOf = (category: number) =>
        `l:product:default:${stableHash({ filters: { category }, page: { ...DEFAULT_PAGE } })}:`
      const paths = ['/products?category=1', '/products?category=2', '/categories/1']
      for (const path of [...paths, '/categories/2', '/products/8/page']) await read(path)
      const before = await keys()
      const find = (rows: readonly KeyRow[], start: string) =>
        rows.filter((r) => r.key.startsWith(start))
      // Product 6 is in category 1, product 8 in category 2.
      const watched = [listOf(1), listOf(2), 'e:product:default:n6:', 'e:product:default:n8:']
      const rows = [...watched, 'e:category:default:n1:', 'e:category:default:n2:'].map((start) =>
        find(before, start),
      )
      for (const found of rows) expect(found.map((r) => r.current)).toEqual([true])
      expect(before.find((r) => r.key === 'product-page:8')).toEqual({
        key: 'product-page:8',
        ttlMs: expect.any(Number),
      })

      const patched = await fetch(`${own.url}/products/6`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ priceCents: 1290 }),
      })
      expect(patched.status).toBe(200)
      const after = new Map((await keys()).map((row) => [row.key, row.current]))
      const [list1, list2, product6, product8, category1, category2] = rows.map((r) => r[0]!.key)
      expect([list1, product6, category1].map((key) => after.get(key!))).toEqual([
        false,
        false,
        false,
      ])
      expect([list2, product8, category2].map((key) => after.get(key!))).toEqual([true, true, true])
    } finally {
      await own.close()
    }
  })
})
