import type { KnexRecordsQuery } from '@cellar/knex'
import { afterEach, describe, expect, test } from 'vitest'
import { AllIndexes, CachedTable, LocalStorageTable, timeRangeIndexes } from '../src/index.js'
import { collect, type Order, openOrders, orderQueries, readLoop } from './fixtures.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const ROWS = 300

async function open<I extends AllIndexes<Order, KnexRecordsQuery> | ReturnType<typeof timeIndexes>>(
  indexes: I,
) {
  const db = await openOrders(ROWS)
  closers.push(db.close)
  let refreshes = 0
  const table = new CachedTable(indexes, db.access, new LocalStorageTable(indexes), {
    metrics: { refreshed: () => refreshes++ },
  })
  return { ...db, table, refreshes: () => refreshes }
}

function timeIndexes() {
  return timeRangeIndexes<Order, KnexRecordsQuery>({
    timestamp: (o) => o.ts,
    primaryKey: (o) => o.id,
    queryIntervals: orderQueries.queryIntervals('ts'),
    queryKeys: orderQueries.queryKeys,
  })
}

describe('concurrency', () => {
  test('readers looping during adjust see all old or all new records, never a mix', async () => {
    const { table, knex } = await open(
      new AllIndexes<Order, KnexRecordsQuery>({ primaryKey: (o) => o.id, ...orderQueries }),
    )
    await table.load({ indexName: 'all' })
    await knex('orders').update({ version: 2 })
    const adjusting = table.adjust({ indexName: 'all' })
    // Short reads (20 of the 300 keys, spread over the table) start many times during the adjust.
    const keys = Array.from({ length: 20 }, (_, i) => 1 + i * 15)
    const read = () => collect(table.getRecords({ indexName: 'primaryKey', keys }))
    const tallies = await Promise.all([1, 2, 3].map(() => readLoop(read, 20, adjusting)))
    await adjusting
    for (const tally of tallies) {
      expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
      expect(tally.readsBeforeDone).toBeGreaterThan(1)
    }
    const after = await collect(table.getRecords({ indexName: 'all' }))
    expect(after.every((o) => o.version === 2)).toBe(true)
  })

  test('synchronous readers (peekRecords) during adjust see all old or all new, never a mix', async () => {
    const { table, knex } = await open(
      new AllIndexes<Order, KnexRecordsQuery>({ primaryKey: (o) => o.id, ...orderQueries }),
    )
    await table.load({ indexName: 'all' })
    await knex('orders').update({ version: 2 })
    const adjusting = table.adjust({ indexName: 'all' })
    const spec = { indexName: 'primaryKey', keys: Array.from({ length: 20 }, (_, i) => 1 + i * 15) }
    let peeked = 0
    const read = async () => {
      // Yield to the adjustment, then read without a promise when storage can answer.
      await Promise.resolve()
      const view = table.peekRecords(spec)
      if (view === undefined) return table.collectRecords(spec)
      peeked++
      return [...view]
    }
    const tallies = await Promise.all([1, 2, 3].map(() => readLoop(read, 20, adjusting)))
    await adjusting
    for (const tally of tallies) {
      expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
      expect(tally.readsBeforeDone).toBeGreaterThan(1)
    }
    // Every read during the adjustment was answered synchronously from storage.
    expect(peeked).toBe(tallies.reduce((sum, tally) => sum + tally.reads, 0))
    expect((await read()).every((o) => o.version === 2)).toBe(true)
  })

  test('readers looping during a window shift always get the whole overlap', async () => {
    const { table } = await open(timeIndexes())
    await table.load({ indexName: 'time', ge: 10, lt: 2010 })
    const adjusting = table.adjust({ indexName: 'time', ge: 1010, lt: 3010 })
    const tally = await readLoop(
      () => collect(table.getRecords({ indexName: 'time', ge: 1010, lt: 2010 })),
      100,
      adjusting,
    )
    expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
    expect(tally.readsBeforeDone).toBeGreaterThan(0)
  })

  test('readers looping during refreshInvalid: no mixed view, one refresh', async () => {
    const { table, knex, refreshes } = await open(timeIndexes())
    await table.load({ indexName: 'time', ge: 0, lt: 10_000 })
    await knex('orders').whereBetween('id', [50, 149]).update({ version: 2 })
    table.invalidateRecords(
      [{ indexName: 'time', ge: 500, lt: 1500 }],
      [{ indexName: 'time', ge: 500, lt: 1500 }],
    )
    const refreshing = table.refreshInvalid()
    const read = () => collect(table.getRecords({ indexName: 'time', ge: 500, lt: 1500 }))
    const tallies = await Promise.all([1, 2, 3].map(() => readLoop(read, 100, refreshing)))
    for (const tally of tallies) expect(tally).toMatchObject({ mixed: 0, incomplete: 0 })
    expect(refreshes()).toBe(1)
    expect((await read()).every((o) => o.version === 2)).toBe(true)
  })

  test('an invalidation racing a read: the read in flight keeps one view, the next sees the change', async () => {
    const { table, knex } = await open(timeIndexes())
    await table.load({ indexName: 'time', ge: 0, lt: 10_000 })
    const reading = table
      .getRecords({ indexName: 'time', ge: 10, lt: 1010 })
      [Symbol.asyncIterator]()
    const seen: Order[] = []
    for (let i = 0; i < 5; i++) seen.push((await reading.next()).value as Order)
    await knex('orders').where('id', '<=', 100).update({ version: 2 })
    table.invalidateRecords(
      [{ indexName: 'time', ge: 10, lt: 1010 }],
      [{ indexName: 'time', ge: 10, lt: 1010 }],
    )
    for (let step = await reading.next(); step.done !== true; step = await reading.next())
      seen.push(step.value)
    expect(seen).toHaveLength(100)
    expect(new Set(seen.map((o) => o.version)).size).toBe(1)
    const next = await collect(table.getRecords({ indexName: 'time', ge: 10, lt: 1010 }))
    expect(next.every((o) => o.version === 2)).toBe(true)
  })

  test('a DB row updated or deleted between invalidate and read is read as it is then', async () => {
    const { table, knex } = await open(timeIndexes())
    await table.load({ indexName: 'time', ge: 0, lt: 10_000 })
    table.invalidateRecords(
      [{ indexName: 'time', ge: 100, lt: 120 }],
      [{ indexName: 'time', ge: 100, lt: 120 }],
    )
    await knex('orders').where('id', 10).update({ amount: 4242 })
    await knex('orders').where('id', 11).delete()
    const view = await collect(table.getRecords({ indexName: 'time', ge: 100, lt: 120 }))
    expect(view.map((o) => [o.id, o.amount])).toEqual([[10, 4242]])
  })
})
