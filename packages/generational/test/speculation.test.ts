import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CacheGateway, type StoreTraceContext } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { CachedRepository, GenerationalResolver, type RepositoryEvent } from '../src/index.js'
import { RecentFingerprints } from '../src/recent.js'
import { type Product, productRepository, seed } from './fixtures.js'
import { countQueries, countStoreCalls, knexConfig } from './helpers.js'

// On a data store that is not in-process, a read fetches the entry under the fingerprint it saw
// last together with the counters, and keeps it only if the counters still give that
// fingerprint. These tests move fingerprints in every way a guess can go wrong and check that
// no stale entry is ever served. Data and counters are both on Redis, in two namespaces.

const redis = await useRedis()

describe('RecentFingerprints', () => {
  test('forgets the least recently read base first', () => {
    const recent = new RecentFingerprints(2)
    recent.set('a', '1')
    recent.set('b', '1')
    recent.set('a', '2') // a is now the newest
    recent.set('c', '1')
    expect([recent.get('a'), recent.get('b'), recent.get('c')]).toEqual(['2', undefined, '1'])
  })
})

describe.skipIf(redis === undefined)('reads that guess the fingerprint (SQLite, Redis)', () => {
  let knex: Knex
  let counters: CacheGateway
  let data: CacheGateway
  let resolver: GenerationalResolver
  let reader: CachedRepository<Product>
  let writer: CachedRepository<Product>
  let events: RepositoryEvent[]
  const page = { page: 1, limit: 5 }
  // Data keys start with e: l: q:; counter keys with tag: or epoch.
  const isData = (call: StoreTraceContext) => /^[elq]:/.test(call.key ?? call.keys?.[0] ?? '')
  const dataOps = (calls: StoreTraceContext[]) => calls.filter(isData).map((call) => call.operation)
  const dir = mkdtempSync(join(tmpdir(), 'cellar-generational-guess-'))

  beforeAll(async () => {
    knex = createKnex(knexConfig({ kind: 'sqlite', filename: join(dir, 'db.sqlite') }))
    await seed(knex)
    counters = new CacheGateway(
      new RedisStore({ connection: redis!.url, prefix: uniquePrefix('gen-guess') }),
    )
    resolver = new GenerationalResolver(counters)
  })
  afterAll(async () => {
    await Promise.all([counters?.close(), knex?.destroy()])
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    data = new CacheGateway(
      new RedisStore({ connection: redis!.url, prefix: uniquePrefix('gen-guess-data') }),
    )
    // Two repositories on one data store and one counter store: two processes of a service.
    reader = new CachedRepository(productRepository(knex), { data, resolver })
    writer = new CachedRepository(productRepository(knex), { data, resolver })
    events = []
    reader.on((event) => events.push(event))
  })
  afterEach(async () => {
    await data.clear()
    await data.close()
  })

  test('a hit whose guess holds: the page index and its entities, one data read each', async () => {
    await reader.list(page)
    const hit = await countStoreCalls(() => reader.list(page))
    expect(dataOps(hit.calls)).toEqual(['get', 'getMany'])
    expect(hit.calls.filter((call) => !isData(call))).toHaveLength(2)
    expect(events.map((e) => e.type)).toEqual(['miss', 'hit'])
  })

  test('after a write by another process the old guess is dropped, and the new rows are read', async () => {
    await reader.list(page)
    await reader.getById(2)
    await writer.update(2, { name: 'written elsewhere' })
    const list = await countQueries(knex, () => reader.list(page))
    expect(list.result.items[1]?.name).toBe('written elsewhere')
    expect(list.sql).toHaveLength(2) // the page and its count: the old entry was not served
    const entity = await countStoreCalls(() => reader.getById(2))
    expect(entity.result?.name).toBe('written elsewhere')
    expect(dataOps(entity.calls)).toEqual(['get', 'get']) // the old guess, then the current key
    const again = await countStoreCalls(() => reader.getById(2))
    expect(dataOps(again.calls)).toEqual(['get'])
    await writer.update(2, { name: 'product 2' })
  })

  test('an entity whose own tag moved while its page did not is read again, not served stale', async () => {
    await reader.list(page)
    await knex('products').where('id', 3).update({ name: 'changed behind the cache' })
    await reader.invalidate(['product:id:3']) // bumps the entity's tag, not the page's
    const { result, calls } = await countStoreCalls(() =>
      countQueries(knex, () => reader.list(page)),
    )
    expect(result.result.items.map((p) => p.name)).toEqual([
      'product 1',
      'product 2',
      'changed behind the cache',
      'product 4',
      'product 5',
    ])
    expect(result.sql).toEqual([expect.stringMatching(/ in \(/i)]) // product 3 refilled alone
    // The page, the prefetched entities, product 3 under its new fingerprint, the refill write.
    expect(dataOps(calls)).toEqual(['get', 'getMany', 'getMany', 'setMany'])
    expect(events.at(-1)).toMatchObject({ type: 'hit', kind: 'list' })
    await knex('products').where('id', 3).update({ name: 'product 3' })
    await reader.invalidate(['product:id:3'])
  })

  test('a page cached without entity fingerprints (an older index) is still a hit', async () => {
    await reader.list(page)
    const key = (events.find((e) => e.type === 'miss') as { key: string }).key
    const index = (await data.getValue<{ ids: number[]; total: number }>(key))!
    await data.setValue(key, { ids: index.ids, total: index.total })
    const { result, calls } = await countStoreCalls(() =>
      countQueries(knex, () => reader.list(page)),
    )
    expect(result.sql).toEqual([])
    expect(result.result.items.map((p) => p.id)).toEqual([1, 2, 3, 4, 5])
    expect(dataOps(calls)).toEqual(['get', 'getMany'])
  })

  test('a guess evicted from the data store is a miss, then cached again', async () => {
    await reader.getById(4)
    await data.clear()
    const { sql } = await countQueries(knex, async () => {
      expect((await reader.getById(4))?.name).toBe('product 4')
      expect((await reader.getById(4))?.name).toBe('product 4')
    })
    expect(sql).toHaveLength(1)
  })

  test('an in-process data store is read after the counters, with nothing guessed', async () => {
    const memory = new CacheGateway(new MemoryStore())
    const local = new CachedRepository(productRepository(knex), { data: memory, resolver })
    await local.getById(6)
    await writer.update(6, { name: 'moved' })
    const { result, calls } = await countStoreCalls(() => local.getById(6))
    expect(result?.name).toBe('moved')
    // The counters, then the current key only (a miss here: the write moved the fingerprint).
    expect(calls.map((call) => call.operation)).toEqual(['getMany', 'get', 'set'])
    await writer.update(6, { name: 'product 6' })
    await memory.close()
  })
})
