import type { IndexSpec, StorageRecordsSpec as SpecShape, StorageTable } from '@cellar/core'
import type { KnexRecordsQuery } from '@cellar/knex'
import { afterEach, describe, expect, test } from 'vitest'
import {
  CachedTable,
  LocalStorageTable,
  primaryKeyRangeIndexes,
  type ReadKind,
  StorageRecordsSpec,
} from '../src/index.js'
import { collect, type Order, openOrders, orderQueries } from './fixtures.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

// A storage that answers only through promises (as RedisStorageTable does), over a local table;
// its reads resolve an array it keeps, so a caller that changed it would change the next read.
class AsyncStorage<R> implements StorageTable<R> {
  readonly name = 'async'
  readonly kept: R[][] = []
  constructor(readonly inner: LocalStorageTable<R>) {}
  clear = () => this.inner.clear()
  putRecord = (record: R) => this.inner.putRecord(record)
  getRecord = (key: string) => this.inner.getRecord(key)
  getRecords = async (spec: SpecShape<R>) => {
    const records = await this.inner.getRecords(spec)
    this.kept.push(records)
    return records
  }
  deleteRecords = (spec: SpecShape<R>) => this.inner.deleteRecords(spec)
  scratchPutRecord = (record: R) => this.inner.scratchPutRecord(record)
  scratchDiscardRecords = (spec: SpecShape<R>) => this.inner.scratchDiscardRecords(spec)
  scratchMerge = (onVisible?: () => void) => this.inner.scratchMerge(onVisible)
}

async function setup() {
  const db = await openOrders(100)
  closers.push(db.close)
  const indexes = primaryKeyRangeIndexes<Order, KnexRecordsQuery>({
    primaryKey: (o) => o.id,
    queryIntervals: orderQueries.queryIntervals('id'),
    queryKeys: orderQueries.queryKeys,
  })
  // Counts coverage checks: one per read, hit or miss.
  const checks = { covers: 0 }
  const covers = indexes.covers.bind(indexes)
  indexes.covers = (spec) => {
    checks.covers++
    return covers(spec)
  }
  const reads: ReadKind[] = []
  const storage = new AsyncStorage(new LocalStorageTable(indexes))
  const table = new CachedTable(indexes, db.access, storage, {
    metrics: { read: (kind) => reads.push(kind) },
  })
  await table.load({ indexName: 'primaryKeyRange', ge: 1, lt: 51 })
  return { ...db, table, reads, storage, checks }
}

const range = (ge: number, lt: number): IndexSpec => ({ indexName: 'primaryKeyRange', ge, lt })
const ids = (orders: readonly Order[]) => orders.map((o) => o.id)
const upTo = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('CachedTable on asynchronous storage', () => {
  test('hits by for await, collectRecords and getFirstRecord; misses and refreshes as before', async () => {
    const { table, reads, storage, knex, checks } = await setup()
    expect(table.peekRecords(range(10, 20))).toBeUndefined()
    expect(ids(await collect(table.getRecords(range(10, 20))))).toEqual(upTo(10, 20))
    const collected = await table.collectRecords(range(10, 20))
    expect(ids(collected)).toEqual(upTo(10, 20))
    // The caller owns what collectRecords resolves: not the array the storage handed out.
    expect(storage.kept.includes(collected)).toBe(false)
    expect((await table.getFirstRecord({ indexName: 'primaryKey', keys: [7] })).id).toBe(7)
    expect(ids(await table.collectRecords(range(45, 55)))).toEqual(upTo(45, 55))
    expect(reads).toEqual(['hit', 'hit', 'hit', 'miss'])
    expect(checks.covers).toBe(4)
    await knex('orders').where('id', 12).update({ amount: 5 })
    table.invalidateRecords([range(12, 13)], [range(12, 13)])
    const records = await table.collectRecords(range(10, 20))
    expect(records.find((o) => o.id === 12)?.amount).toBe(5)
    expect(reads.at(-1)).toBe('hitWithRefresh')
  })

  test('next() called again before the read resolves keeps the order, then ends', async () => {
    const { table } = await setup()
    for (const spec of [range(10, 13), range(49, 52)]) {
      const iterator = table.getRecords(spec)[Symbol.asyncIterator]()
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => iterator.next()))
      expect(results.map((r) => (r.done ? 'done' : r.value.id))).toEqual([
        ...upTo(spec.ge as number, spec.lt as number),
        'done',
        'done',
      ])
    }
  })

  test('a hit settles one promise step after the storage read, the first record of for await too', async () => {
    const { table, storage } = await setup()
    // Promise jobs that run before `read` settles (each `await null` lets one round through).
    const steps = async (read: () => Promise<unknown>) => {
      let settled = false
      read().then(() => {
        settled = true
      })
      let n = 0
      while (!settled && n < 20) {
        await null
        n++
      }
      return n
    }
    const collecting = await steps(() => table.collectRecords(range(10, 20)))
    const first = await steps(() => table.getRecords(range(10, 20))[Symbol.asyncIterator]().next())
    // The storage's own read plus one step: what a caller awaiting it directly would see.
    const spec = StorageRecordsSpec.between<Order>('primaryKeyRange', 10, 20)
    const direct = await steps(() => storage.getRecords(spec).then((records) => records))
    expect([collecting, first]).toEqual([direct, direct])
  })

  test('a bad spec rejects (never throws) on every read', async () => {
    const { table } = await setup()
    const bad = { indexName: 'primaryKeyRange', ge: 5, lt: 1 }
    let collecting: Promise<unknown> | undefined
    expect(() => {
      collecting = table.collectRecords(bad)
    }).not.toThrow()
    await expect(collecting).rejects.toMatchObject({ code: 'E_INVALID_INTERVAL' })
    await expect(collect(table.getRecords(bad))).rejects.toMatchObject({
      code: 'E_INVALID_INTERVAL',
    })
    await expect(table.getFirstRecord({ indexName: 'nope' })).rejects.toMatchObject({
      code: 'E_INVALID_SPEC',
    })
  })
})
