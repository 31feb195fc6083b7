import { CacheGateway } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import type { Knex } from 'knex'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  CachedRepository,
  counterKey,
  GenerationalResolver,
  type RepositoryEvent,
} from '../src/index.js'
import {
  type Category,
  categoryRepository,
  dataKeys,
  PRODUCTS,
  type Product,
  productRepository,
  seed,
} from './fixtures.js'
import { countQueries, countStoreCalls, useTargets } from './helpers.js'

const redis = await useRedis()
const { targets, open } = await useTargets()

for (const { name, target } of targets) {
  describe.skipIf(target === undefined || redis === undefined)(
    `CachedRepository on ${name}`,
    () => {
      let knex: Knex
      let counters: CacheGateway
      let data: CacheGateway
      let resolver: GenerationalResolver
      let products: CachedRepository<Product>
      let events: RepositoryEvent[]

      beforeAll(async () => {
        knex = open(target!)
        await seed(knex)
        counters = new CacheGateway(
          new RedisStore({ connection: redis!.url, prefix: uniquePrefix('gen-repo') }),
        )
        resolver = new GenerationalResolver(counters)
      })
      afterAll(async () => {
        await counters?.close()
      })
      beforeEach(() => {
        data = new CacheGateway(new MemoryStore())
        products = new CachedRepository(productRepository(knex), { data, resolver })
        events = []
        products.on((event) => events.push(event))
      })

      test('an entity is read once, then served from the cache under its fingerprint and bind group', async () => {
        const first = await countQueries(knex, () => products.getById(4))
        expect(first.result).toMatchObject({
          id: 4,
          name: 'product 4',
          category_name: 'category 1',
        })
        expect(first.sql).toHaveLength(1)
        const again = await countQueries(knex, () => products.getById(4))
        expect(again.result).toEqual(first.result)
        expect(again.sql).toHaveLength(0)
        const fingerprint = await resolver.fingerprint(products.entityTags(4))
        expect(events.map((e) => e.type)).toEqual(['miss', 'hit'])
        expect(events[1]).toEqual({
          type: 'hit',
          kind: 'entity',
          key: `e:product:default:n4:${fingerprint}`,
        })
        const replica = await countQueries(knex, () =>
          products.getById(4, { bindGroup: 'replica' }),
        )
        expect(replica.sql).toHaveLength(1)
        expect(events[2]).toMatchObject({
          type: 'miss',
          key: `e:product:replica:n4:${fingerprint}`,
        })
      })

      test('a missing entity is null and is not cached', async () => {
        const { sql } = await countQueries(knex, async () => {
          expect(await products.getById(9999)).toBeNull()
          expect(await products.getById(9999)).toBeNull()
        })
        expect(sql).toHaveLength(2)
      })

      test('a list hit reads the page ids, then every entity in one getMany, with no SQL', async () => {
        const page = { page: 2, limit: 5 }
        const miss = await countQueries(knex, () => products.list(page, { category_id: 2 }))
        expect(miss.result.total).toBe(PRODUCTS / 3)
        expect(miss.result.items.map((p) => p.id)).toEqual([17, 20, 23, 26, 29])
        const hit = await countStoreCalls(() =>
          countQueries(knex, () => products.list(page, { category_id: 2 })),
        )
        expect(hit.result.sql).toEqual([])
        expect(hit.result.result).toEqual(miss.result)
        const dataCalls = hit.calls.filter((call) => call.store === 'memory')
        expect(dataCalls.map((call) => call.operation)).toEqual(['get', 'getMany'])
        expect(dataCalls[1]!.keys).toHaveLength(5)
        const listKey = events.find((e) => e.type === 'hit')
        expect(listKey).toMatchObject({
          kind: 'list',
          key: expect.stringMatching(/^l:product:default:/),
        })
      })

      test('entities missing from the cache are refilled with one WHERE id IN query', async () => {
        const page = { page: 1, limit: 6 }
        await products.list(page)
        const entityKeys = (await dataKeys(data)).filter((key) => key.startsWith('e:'))
        expect(entityKeys).toHaveLength(6)
        await data.deleteMany(entityKeys.slice(0, 3))
        const refill = await countQueries(knex, () => products.list(page))
        expect(refill.sql).toHaveLength(1)
        expect(refill.sql[0]).toMatch(/ in \(/i)
        expect(refill.result.items).toHaveLength(6)
        expect((await countQueries(knex, () => products.list(page))).sql).toHaveLength(0)
      })

      test('a page whose entity no longer exists is a miss', async () => {
        await knex('products').insert({ id: 500, category_id: 3, name: 'short-lived', price: 1 })
        const filters = { name: 'short-lived' }
        const page = { page: 1, limit: 5 }
        expect((await products.list(page, filters)).items).toHaveLength(1)
        await knex('products').where('id', 500).del() // behind the cache's back
        const entityKey = (await dataKeys(data)).find((key) =>
          key.startsWith('e:product:default:n500:'),
        )
        await data.delete(entityKey!)
        const after = await countQueries(knex, () => products.list(page, filters))
        expect(after.result.items).toEqual([])
        expect(after.result.total).toBe(0)
        expect(events.filter((e) => e.type === 'miss')).toHaveLength(2)
      })

      test('a filter without a stable hash is not cached, and an event says so', async () => {
        class Filter {
          category_id = 1
        }
        const { result, sql } = await countQueries(knex, async () => {
          await products.list({ page: 1, limit: 3 }, new Filter())
          return products.list({ page: 1, limit: 3 }, new Filter())
        })
        expect(result.items.map((p) => p.category_id)).toEqual([1, 1, 1])
        expect(sql).toHaveLength(4)
        expect(events).toEqual([
          { type: 'uncacheable', kind: 'list', reason: expect.any(String) },
          { type: 'uncacheable', kind: 'list', reason: expect.any(String) },
        ])
        expect(await dataKeys(data)).toEqual([])
      })

      test('getBy and existsBy always ask the database', async () => {
        const { sql } = await countQueries(knex, async () => {
          expect(await products.getBy('name', 'product 3')).toMatchObject({ id: 3 })
          expect(await products.getBy('name', 'product 3')).toMatchObject({ id: 3 })
          expect(await products.existsBy('name', 'nope')).toBe(false)
          expect(await products.existsBy('name', 'nope')).toBe(false)
        })
        expect(sql).toHaveLength(4)
      })

      test('cursor pagination caches the first page only', async () => {
        const first = await products.list({ limit: 4 })
        expect(first.items.map((p) => p.id)).toEqual([1, 2, 3, 4])
        expect((await countQueries(knex, () => products.list({ limit: 4 }))).sql).toHaveLength(0)
        const next = { cursor: first.nextCursor!, limit: 4 }
        const second = await countQueries(knex, async () => {
          await products.list(next)
          return products.list(next)
        })
        expect(second.result.items.map((p) => p.id)).toEqual([5, 6, 7, 8])
        expect(second.sql).toHaveLength(2)
        expect(events.filter((e) => e.type === 'bypass')).toHaveLength(2)
      })

      test('concurrent misses of one key load once in the process', async () => {
        const entity = await countQueries(knex, () =>
          Promise.all(Array.from({ length: 10 }, () => products.getById(7))),
        )
        expect(entity.sql).toHaveLength(1)
        expect(new Set(entity.result.map((p) => p?.name))).toEqual(new Set(['product 7']))
        const lists = await countQueries(knex, () =>
          Promise.all(Array.from({ length: 10 }, () => products.list({ page: 3, limit: 4 }))),
        )
        expect(lists.sql).toHaveLength(2) // the page and its count, once
        expect(lists.result.every((r) => r.items.length === 4)).toBe(true)
      })

      test('a named query is cached; a null result is not', async () => {
        const cheap = await countQueries(knex, async () => {
          await products.query('cheapest', { below: 105 })
          return products.query('cheapest', { below: 105 })
        })
        expect(cheap.result).toBe(100)
        expect(cheap.sql).toHaveLength(1)
        const none = await countQueries(knex, async () => {
          await products.query('cheapest', { below: 0 })
          return products.query('cheapest', { below: 0 })
        })
        expect(none.result).toBeNull()
        expect(none.sql).toHaveLength(2)
      })

      test('a write invalidates what depends on it, and only that', async () => {
        const categories = categoryRepository(knex)
        const dependent = new CachedRepository<Category>(categories, {
          data,
          resolver,
          dependsOn: ['product:category_id'],
        })
        const independent = new CachedRepository<Category>(categories, {
          data,
          resolver,
          bindGroup: 'other',
        })
        const page = { page: 1, limit: 3 }
        await Promise.all([
          products.list(page),
          products.getById(2),
          dependent.list(page),
          independent.list(page),
        ])
        await products.update(2, { name: 'renamed' })
        const after = await countQueries(knex, async () => ({
          product: await products.getById(2),
          list: await products.list(page),
          dependent: await dependent.list(page),
          independent: await independent.list(page),
        }))
        expect(after.result.product?.name).toBe('renamed')
        expect(after.result.list.items[1]?.name).toBe('renamed')
        // product by id, product page + count, category page + count; the independent list is a hit
        expect(after.sql).toHaveLength(5)
        await products.update(2, { name: 'product 2' })
      })

      test('create and delete through the repository invalidate its lists and entities', async () => {
        const filters = { category_id: 3 }
        const page = { page: 1, limit: 100 }
        const before = await products.list(page, filters)
        const created = await products.create({ category_id: 3, name: 'created', price: 7 })
        expect(created).toMatchObject({ name: 'created', category_name: 'category 3' })
        const withIt = await products.list(page, filters)
        expect(withIt.total).toBe((before.total ?? 0) + 1)
        expect(withIt.items.map((p) => p.id)).toContain(created.id)
        expect((await products.getById(created.id))?.name).toBe('created')
        expect(await products.delete(created.id)).toBe(true)
        expect(await products.delete(created.id)).toBe(false)
        expect(await products.getById(created.id)).toBeNull()
        expect((await products.list(page, filters)).items.map((p) => p.id)).toEqual(
          before.items.map((p) => p.id),
        )
      })

      test('a write in a transaction is refused when the repository cannot wait for its commit', async () => {
        const inner = productRepository(knex)
        const noHook = {
          entity: inner.entity,
          idOf: (item: Product) => inner.idOf(item),
          getById: (id: string | number) => inner.getById(id),
          getByIds: (ids: readonly (string | number)[]) => inner.getByIds(ids),
          list: (p: { page: number; limit: number }, f?: unknown) => inner.list(p, f),
          query: (n: string, a?: unknown) => inner.query(n, a),
          create: (d: Partial<Product>) => inner.create(d),
          update: (id: string | number, d: Partial<Product>) => inner.update(id, d),
          delete: (id: string | number) => inner.delete(id),
        }
        const cached = new CachedRepository<Product>(noHook, { data, resolver })
        await expect(
          knex.transaction((trx) => cached.update(1, { name: 'never' }, { transaction: trx })),
        ).rejects.toMatchObject({ code: 'E_UNSUPPORTED' })
        expect((await knex('products').where('id', 1).first()).name).toBe('product 1')
      })

      test('a malformed dependency spec fails at construction', () => {
        expect(
          () =>
            new CachedRepository(categoryRepository(knex), {
              data,
              resolver,
              dependsOn: ['product'],
            }),
        ).toThrow(expect.objectContaining({ code: 'E_INVALID_DEPENDENCY' }))
      })

      test('in a transaction, bumps wait for the commit', async () => {
        const page = { page: 1, limit: 5 }
        await products.list(page)
        const before = await counters.getValue<number>(counterKey('product'))
        await knex.transaction(async (trx) => {
          await products.update(3, { name: 'in a transaction' }, { transaction: trx })
          expect(await counters.getValue<number>(counterKey('product'))).toBe(before)
          expect((await products.list(page)).items[2]?.name).toBe('product 3')
        })
        await products.settled()
        expect(await counters.getValue<number>(counterKey('product'))).toBe((before ?? 0) + 1)
        expect((await products.list(page)).items[2]?.name).toBe('in a transaction')
        await products.update(3, { name: 'product 3' })
      })

      test('a rolled back transaction bumps nothing', async () => {
        const page = { page: 1, limit: 5 }
        await products.list(page)
        const before = await counters.getValue<number>(counterKey('product'))
        await expect(
          knex.transaction(async (trx) => {
            await products.update(4, { name: 'rolled back' }, { transaction: trx })
            await products.delete(5, { transaction: trx })
            throw new Error('abort')
          }),
        ).rejects.toThrow('abort')
        await products.settled()
        expect(await counters.getValue<number>(counterKey('product'))).toBe(before)
        const { result, sql } = await countQueries(knex, () => products.list(page))
        expect(sql).toHaveLength(0)
        expect(result.items.map((p) => p.name)).toEqual([1, 2, 3, 4, 5].map((i) => `product ${i}`))
        expect(await knex('products').where('id', 4).first()).toMatchObject({ name: 'product 4' })
      })
    },
  )
}
