import type { Indexes, IndexSpec } from '@cellar/core'
import type { KnexRecordsQuery } from '@cellar/knex'
import { afterEach, describe, expect, test } from 'vitest'
import {
  AllIndexes,
  CachedTable,
  LocalStorageTable,
  PrimaryKeyIndexes,
  primaryKeyRangeIndexes,
  type ReadKind,
  timeRangeIndexes,
} from '../src/index.js'
import { collect, type Order, openOrders, orderQueries } from './fixtures.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

function timeIndexes() {
  return timeRangeIndexes<Order, KnexRecordsQuery>({
    timestamp: (o) => o.ts,
    primaryKey: (o) => o.id,
    queryIntervals: orderQueries.queryIntervals('ts'),
    queryKeys: orderQueries.queryKeys,
  })
}

async function setup<I extends Indexes<Order, KnexRecordsQuery>>(indexes: I, rows = 100) {
  const db = await openOrders(rows)
  closers.push(db.close)
  const reads: ReadKind[] = []
  const counts = { refreshed: 0, adjusted: 0, loaded: 0, expired: 0 }
  const table = new CachedTable(indexes, db.access, new LocalStorageTable(indexes), {
    metrics: {
      read: (kind) => reads.push(kind),
      refreshed: () => counts.refreshed++,
      adjusted: () => counts.adjusted++,
      recordsLoaded: (n) => (counts.loaded += n),
      recordsExpired: (n) => (counts.expired += n),
    },
  })
  return { ...db, table, reads, counts, indexes }
}

const ids = (orders: Order[]) => orders.map((o) => o.id).sort((a, b) => a - b)
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const time = (ge: number, lt: number): IndexSpec => ({ indexName: 'time', ge, lt })

describe('CachedTable on a time window (range + primary key indexes)', () => {
  test('load twice rejects with E_ALREADY_LOADED; reads wait for the load', async () => {
    const { table } = await setup(timeIndexes())
    const early = collect(table.getRecords(time(100, 200)))
    await table.load(time(100, 500))
    expect(ids(await early)).toEqual(range(10, 20))
    await expect(table.load(time(0, 10))).rejects.toMatchObject({ code: 'E_ALREADY_LOADED' })
    await expect(table.loaded()).resolves.toBeUndefined()
  })

  test('a covered read is a hit; an uncovered one is served entirely by the DB', async () => {
    const { table, reads, knex } = await setup(timeIndexes())
    await table.load(time(100, 500))
    // A row changed behind the cache's back shows which source answered.
    await knex('orders').update({ amount: -1 })
    const hit = await collect(table.getRecords(time(200, 300)))
    expect(ids(hit)).toEqual(range(20, 30))
    expect(hit.every((o) => o.amount !== -1)).toBe(true)
    const miss = await collect(table.getRecords(time(450, 600)))
    expect(ids(miss)).toEqual(range(45, 60))
    expect(miss.every((o) => o.amount === -1)).toBe(true)
    expect(reads).toEqual(['hit', 'miss'])
  })

  test('getFirstRecord resolves a record or rejects with E_RECORD_NOT_FOUND', async () => {
    const { table } = await setup(timeIndexes())
    await table.load(time(100, 500))
    expect((await table.getFirstRecord(time(150, 160))).id).toBe(15)
    await expect(table.getFirstRecord(time(151, 159))).rejects.toMatchObject({
      code: 'E_RECORD_NOT_FOUND',
    })
  })

  test('peekRecords answers a plain hit at once, and undefined for anything else', async () => {
    const { table, reads, knex } = await setup(timeIndexes())
    expect(table.peekRecords(time(200, 300))).toBeUndefined()
    await table.load(time(100, 500))
    expect(ids([...(table.peekRecords(time(200, 300)) ?? [])])).toEqual(range(20, 30))
    expect(ids(await table.collectRecords(time(200, 300)))).toEqual(range(20, 30))
    // The caller owns what collectRecords resolves: emptying it changes no later read.
    ;(await table.collectRecords(time(200, 300))).length = 0
    expect(ids(await table.collectRecords(time(200, 300)))).toEqual(range(20, 30))
    // Not covered: undefined, and nothing is read (the DB read is collectRecords' to make).
    expect(table.peekRecords(time(450, 600))).toBeUndefined()
    expect(reads).toEqual(['hit', 'hit', 'hit', 'hit'])
    // A read touching invalid records waits for a refresh; one beside them is still a hit.
    await knex('orders').where('id', 25).update({ amount: 7 })
    table.invalidateRecords([time(250, 251)], [time(250, 251)])
    expect(table.peekRecords(time(200, 300))).toBeUndefined()
    expect(table.peekRecords(time(300, 400))).toHaveLength(10)
    expect((await table.collectRecords(time(200, 300))).find((o) => o.id === 25)?.amount).toBe(7)
    expect(table.peekRecords(time(200, 300))?.find((o) => o.id === 25)?.amount).toBe(7)
    expect(reads).toEqual(['hit', 'hit', 'hit', 'hit', 'hit', 'hitWithRefresh', 'hit'])
    for (const bad of [
      { indexName: 'nope' },
      { indexName: 'primaryKey', keys: [1, {}] },
      { indexName: 'primaryKey', keys: '1' },
    ]) {
      let failure: unknown
      try {
        table.peekRecords(bad)
      } catch (error) {
        failure = error
      }
      expect(failure).toMatchObject({ code: 'E_INVALID_SPEC' })
    }
  })

  test('invalidateRecords validates: loaded, non-empty, one spec per index, new specs covered', async () => {
    const { table } = await setup(timeIndexes())
    expect(() => table.invalidateRecords([time(100, 110)], [time(100, 110)])).toThrow(
      expect.objectContaining({ code: 'E_NOT_LOADED' }),
    )
    await table.load(time(100, 500))
    expect(() => table.invalidateRecords([], [time(100, 110)])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_SPEC' }),
    )
    expect(() => table.invalidateRecords([time(100, 110)], [])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_SPEC' }),
    )
    expect(() =>
      table.invalidateRecords([time(100, 110), time(120, 130)], [time(100, 110)]),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_SPEC' }))
    expect(() => table.invalidateRecords([time(100, 110)], [time(900, 910)])).toThrow(
      expect.objectContaining({ code: 'E_NOT_COVERED' }),
    )
  })

  test('a score change moves a record; a deleted row disappears; one refresh for many readers', async () => {
    const { table, knex, counts, reads } = await setup(timeIndexes())
    await table.load(time(100, 500))
    await knex('orders').where('id', 20).update({ ts: 305 })
    await knex('orders').where('id', 21).delete()
    table.invalidateRecords([time(200, 211)], [time(305, 306)])
    const views = await Promise.all(
      range(0, 8).map(() => collect(table.getRecords(time(200, 310)))),
    )
    for (const view of views)
      expect(ids(view)).toEqual(
        range(22, 31)
          .concat(20)
          .sort((a, b) => a - b),
      )
    expect(counts.refreshed).toBe(1)
    expect(reads.filter((k) => k === 'hitWithRefresh').length).toBeGreaterThan(0)
    expect(ids(await collect(table.getRecords(time(200, 220))))).toEqual([])
  })

  test('an index without a spec becomes dirty: reads on it refresh first', async () => {
    const { table, knex, counts } = await setup(timeIndexes())
    await table.load(time(100, 500))
    await knex('orders').where('id', 30).update({ ts: 301 })
    table.invalidateRecords([time(300, 301)], [time(301, 302)])
    // The primary key index is not covered for a time window, so this read is a DB miss,
    // but a read on a dirty index never serves stale storage.
    expect((await table.getFirstRecord(time(301, 302))).id).toBe(30)
    expect(counts.refreshed).toBe(1)
  })

  test('forceRefreshOnNextRead refreshes before an unrelated read', async () => {
    const { table, counts } = await setup(timeIndexes())
    await table.load(time(100, 500))
    table.invalidateRecords([time(100, 110)], [time(100, 110)], { forceRefreshOnNextRead: true })
    await collect(table.getRecords(time(400, 410)))
    expect(counts.refreshed).toBe(1)
  })

  test('adjust moves the window: expired records leave, new ones enter, observers see each', async () => {
    const base = timeIndexes()
    const expired: number[] = []
    const loaded: number[] = []
    const observed: Indexes<Order, KnexRecordsQuery> = {
      indexNames: base.indexNames,
      score: (name, o) => base.score(name, o),
      primaryKey: (o) => base.primaryKey(o),
      storageRecordsSpec: (spec) => base.storageRecordsSpec(spec),
      dbRecordsSpec: (spec) => base.dbRecordsSpec(spec),
      covers: (spec) => base.covers(spec),
      prepareAdjustment: (spec) => ({
        ...base.prepareAdjustment(spec),
        observeExpired: (o: Order) => expired.push(o.id),
        observeLoaded: (o: Order) => loaded.push(o.id),
      }),
      commitAdjustment: (adjustment) => base.commitAdjustment(adjustment),
    }
    const { table, reads } = await setup(observed)
    await table.load(time(100, 300))
    loaded.length = 0
    await table.adjust(time(200, 400))
    expect(expired.sort((a, b) => a - b)).toEqual(range(10, 20))
    expect(loaded.sort((a, b) => a - b)).toEqual(range(30, 40))
    expect(ids(await collect(table.getRecords(time(200, 400))))).toEqual(range(20, 40))
    expect(reads.at(-1)).toBe('hit')
    await collect(table.getRecords(time(100, 200)))
    expect(reads.at(-1)).toBe('miss')
  })

  test('adjust refreshes pending invalid records first', async () => {
    const { table, knex, counts } = await setup(timeIndexes())
    await table.load(time(100, 300))
    await knex('orders').where('id', 25).update({ amount: 999 })
    table.invalidateRecords([time(250, 251)], [time(250, 251)])
    await table.adjust(time(200, 400))
    expect(counts.refreshed).toBe(1)
    expect((await table.getFirstRecord(time(250, 251))).amount).toBe(999)
  })
})

describe('the other built-in indexes', () => {
  test('PrimaryKeyIndexes: some keys are covered when loaded, all after loading all', async () => {
    const indexes = new PrimaryKeyIndexes<Order, KnexRecordsQuery>({
      primaryKey: (o) => o.id,
      ...orderQueries,
    })
    const { table, reads } = await setup(indexes)
    await table.load({ indexName: 'primaryKey', keys: [1, 2, 3] })
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [2, 3] })))).toEqual(
      [2, 3],
    )
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [3, 4] })))).toEqual(
      [3, 4],
    )
    expect(reads).toEqual(['hit', 'miss'])
    await table.adjust({ indexName: 'primaryKey', keys: [3, 4] })
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [3, 4] })))).toEqual(
      [3, 4],
    )
    expect(indexes.covers({ indexName: 'primaryKey', keys: [1] })).toBe(false)
    await table.adjust({ indexName: 'primaryKey' })
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey' })))).toEqual(range(1, 101))
    expect(reads.at(-1)).toBe('hit')
  })

  test('the primary key recheck drops records whose hash collides', async () => {
    const indexes = new PrimaryKeyIndexes<Order, KnexRecordsQuery>({
      primaryKey: (o) => o.id,
      ...orderQueries,
    })
    // A scorer that makes every key collide with key 7's hash.
    const colliding = {
      ...indexes,
      indexNames: indexes.indexNames,
      primaryKey: (o: Order) => String(o.id),
      score: () => indexes.score('primaryKey', { id: 7 } as Order),
    }
    const storage = new LocalStorageTable<Order>(colliding)
    for (const id of [5, 7, 9]) await storage.putRecord({ id, ts: 0, amount: 0, version: 1 })
    const spec = indexes.storageRecordsSpec({ indexName: 'primaryKey', keys: [7] })
    expect(ids([...(await storage.getRecords(spec))])).toEqual([7])
    // A storage walking the hash intervals finds all three records there; the recheck keeps one.
    const walk = { indexName: 'primaryKey', scoreIntervals: spec.scoreIntervals }
    expect(ids([...(await storage.getRecords(walk))])).toEqual([5, 7, 9])
    expect(ids([...(await storage.getRecords({ ...walk, recheck: spec.recheck }))])).toEqual([7])
  })

  test('AllIndexes: everything and keys are covered after the load', async () => {
    const { table, reads } = await setup(
      new AllIndexes<Order, KnexRecordsQuery>({ primaryKey: (o) => o.id, ...orderQueries }),
    )
    await table.load({ indexName: 'all' })
    expect(await collect(table.getRecords({ indexName: 'all' }))).toHaveLength(100)
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [42] })))).toEqual([
      42,
    ])
    expect(reads).toEqual(['hit', 'hit'])
  })

  test('primaryKeyRangeIndexes: ranges and keys inside the window are covered', async () => {
    const indexes = primaryKeyRangeIndexes<Order, KnexRecordsQuery>({
      primaryKey: (o) => o.id,
      queryIntervals: orderQueries.queryIntervals('id'),
      queryKeys: orderQueries.queryKeys,
    })
    const { table, reads } = await setup(indexes)
    await table.load({ indexName: 'primaryKeyRange', ge: 10, lt: 60 })
    expect(
      ids(await collect(table.getRecords({ indexName: 'primaryKeyRange', ge: 20, lt: 30 }))),
    ).toEqual(range(20, 30))
    expect(
      ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [11, 59] }))),
    ).toEqual([11, 59])
    expect(ids(await collect(table.getRecords({ indexName: 'primaryKey', keys: [9] })))).toEqual([
      9,
    ])
    expect(reads).toEqual(['hit', 'hit', 'miss'])
    // Keys as numbers or digit strings; any key outside the window (or not a finite number)
    // leaves the request uncovered; a bad key or list throws even after an uncovered one.
    const keys = (list: unknown) => ({ indexName: 'primaryKey', keys: list })
    expect(indexes.covers(keys([10, '59', 30.5]))).toBe(true)
    expect(indexes.covers(keys([]))).toBe(true)
    for (const outside of [[9], ['60'], [11, 60], ['x'], [Number.NaN], [Number.POSITIVE_INFINITY]])
      expect(indexes.covers(keys(outside))).toBe(false)
    for (const bad of [[9, {}], [11, null], '11', undefined]) {
      expect(() => indexes.covers(keys(bad))).toThrow(
        expect.objectContaining({ code: 'E_INVALID_SPEC' }),
      )
    }
  })
})
