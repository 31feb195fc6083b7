import { setImmediate as nextTurn } from 'node:timers/promises'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { LocalStorageTable, primaryKeyRangeIndexes, RangeIndexes } from '../src/index.js'
import { RowMap } from '../src/row-map.js'

// A short range of `primaryKeyRange` (whose score is the integer primary key) is read from the
// row array, a slot per key, instead of the B+ tree; these pin that it gives what the tree gives.

interface Row {
  id: number
  v: number
}

const options = {
  primaryKey: (r: Row) => r.id,
  queryIntervals: () => null,
  queryKeys: () => null,
}
// The same index scored by another function than the primary key's (the storage can't tell the
// two give the same number): its reads always walk the tree.
const treeOnly = () =>
  new RangeIndexes<Row, null>({
    ...options,
    indexName: 'primaryKeyRange',
    score: (r) => r.id,
    scoreOfKey: Number,
  })

const spans = () => vi.spyOn(RowMap.prototype, 'keySpan')
afterEach(() => {
  vi.restoreAllMocks()
})

async function filled(ids: readonly number[], v = 1) {
  const indexes = primaryKeyRangeIndexes<Row, null>(options)
  const reference = treeOnly()
  const table = new LocalStorageTable(indexes)
  const tree = new LocalStorageTable(reference)
  for (const id of ids) {
    await table.putRecord({ id, v })
    await tree.putRecord({ id, v })
  }
  const read = (on: LocalStorageTable<Row>, ix: RangeIndexes<Row, null>, ge: number, lt: number) =>
    on.getRecordsSync(ix.storageRecordsSpec({ indexName: 'primaryKeyRange', ge, lt }))
  return {
    table,
    indexes,
    walk: (ge: number, lt: number) => read(table, indexes, ge, lt),
    tree: (ge: number, lt: number) => read(tree, reference, ge, lt),
    both: async (change: (on: LocalStorageTable<Row>) => Promise<unknown>) => {
      await change(table)
      await change(tree)
    },
  }
}

const holey = Array.from({ length: 3_000 }, (_, i) => i).filter((i) => i % 7 !== 3)

describe('LocalStorageTable: short ranges of the primary key from the row array', () => {
  test('the same records in the same order as the tree, for any bounds', async () => {
    const t = await filled(holey)
    const spy = spans()
    const ranges: Array<[number, number]> = [
      [0, 100],
      [5.5, 40.2],
      [-10, 20],
      [2_990, 3_100],
      [50, 50],
      [10, 11],
      [3, 4], // a hole
      [1e9, 1e9 + 10],
      [2 ** 30 - 5, 2 ** 30 + 5],
      [-1e6, -5],
    ]
    for (const [ge, lt] of ranges) {
      const expected = holey.filter((id) => ge <= id && id < lt)
      expect(t.walk(ge, lt).map((r) => r.id)).toEqual(expected)
      expect(t.tree(ge, lt).map((r) => r.id)).toEqual(expected)
    }
    // The eight holding an integer of [0, 2^30) walked the row array (the tree-only table never
    // does); [50, 50) and [-1e6, -5) hold none and read nothing.
    expect(spy).toHaveBeenCalledTimes(8)
    // Wider than 4,096 keys: the tree, with the same result.
    spy.mockClear()
    expect(t.walk(0, 5_000)).toEqual(t.tree(0, 5_000))
    expect(t.walk(-Infinity, Infinity)).toHaveLength(holey.length)
    expect(spy).not.toHaveBeenCalled()
  })

  test('a key the row array does not hold (fractional, negative, 2^30 and up) turns the walk off until it is gone', async () => {
    const t = await filled(holey)
    const odd = [1.5, -2, 2 ** 31]
    await t.both(async (on) => {
      for (const id of odd) await on.putRecord({ id, v: 1 })
    })
    const spy = spans()
    for (const [ge, lt] of [
      [0, 3],
      [-5, 1],
      [2 ** 31, 2 ** 31 + 1],
    ] as const) {
      expect(t.walk(ge, lt)).toEqual(t.tree(ge, lt))
    }
    expect(t.walk(0, 3).map((r) => r.id)).toEqual([0, 1, 1.5, 2])
    expect(t.walk(-5, 1).map((r) => r.id)).toEqual([-2, 0])
    expect(spy).not.toHaveBeenCalled()
    await t.both((on) =>
      on.deleteRecords({
        indexName: 'primaryKeyRange',
        scoreIntervals: [
          { ge: -2, lt: -1 },
          { ge: 1.5, lt: 1.6 },
          { ge: 2 ** 31, lt: 2 ** 31 + 1 },
        ],
      }),
    )
    expect(t.walk(0, 3).map((r) => r.id)).toEqual([0, 1, 2])
    expect(spy).toHaveBeenCalledTimes(1)
  })

  test('keys held sparsely (fewer than half of those below the largest) are read from the tree', async () => {
    const sparse = Array.from({ length: 300 }, (_, i) => i * 1_000)
    const t = await filled(sparse)
    const spy = spans()
    for (const [ge, lt] of [
      [0, 4_000],
      [500, 2_500],
      [2_000, 2_001],
    ] as const) {
      expect(t.walk(ge, lt)).toEqual(t.tree(ge, lt))
      expect(t.walk(ge, lt).map((r) => r.id)).toEqual(sparse.filter((id) => ge <= id && id < lt))
    }
    expect(spy).not.toHaveBeenCalled()
    // Filled in to more than half: the row array again.
    await t.both(async (on) => {
      for (let id = 0; id < 300_000; id += 2) await on.putRecord({ id, v: 1 })
    })
    expect(t.walk(0, 4_000)).toEqual(t.tree(0, 4_000))
    expect(spy).toHaveBeenCalledTimes(1)
  })

  test('a recheck on a range spec is applied', async () => {
    const t = await filled(holey)
    const found = t.table.getRecordsSync({
      indexName: 'primaryKeyRange',
      scoreIntervals: [{ ge: 0, lt: 50 }],
      recheck: (r) => r.id % 2 === 0,
    })
    expect(found.map((r) => r.id)).toEqual(holey.filter((id) => id < 50 && id % 2 === 0))
  })

  test('reads during a sliced merge and its fold see the old version whole, then the new one whole', async () => {
    const ids = Array.from({ length: 3_000 }, (_, i) => i)
    const t = await filled(ids)
    // 3,000 new versions and 100 discards: the merge runs in slices, then folds in slices.
    for (const id of ids) await t.table.scratchPutRecord({ id, v: 2 })
    await t.table.scratchDiscardRecords({
      indexName: 'primaryKeyRange',
      scoreIntervals: [{ ge: 1_000, lt: 1_100 }],
    })
    const spy = spans()
    const views = { old: 0, new: 0, walked: 0 }
    const check = (ge: number) => {
      const calls = spy.mock.calls.length
      const view = t.walk(ge, ge + 200)
      if (spy.mock.calls.length > calls) views.walked++
      const versions = new Set(view.map((r) => r.v))
      expect(versions.size).toBe(1)
      if (versions.has(1)) {
        views.old++
        expect(view).toHaveLength(200)
      } else {
        views.new++
        const discarded = Math.max(0, Math.min(ge + 200, 1_100) - Math.max(ge, 1_000))
        expect(view).toHaveLength(200 - discarded)
      }
    }
    let visible = false
    const merging = t.table.scratchMerge(() => {
      visible = true
      check(950)
    })
    for (let i = 0; !visible; i++) {
      check((i * 311) % 2_800)
      await nextTurn()
    }
    await merging
    for (let i = 0; i < 5; i++) {
      check(1_000)
      await nextTurn()
    }
    await t.table.putRecord({ id: 0, v: 2 }) // waits for the fold
    check(900)
    expect(views.old).toBeGreaterThan(1)
    expect(views.new).toBeGreaterThan(1)
    // Before the swap and after the fold the row array answers; while the fold runs, the tree.
    expect(views.walked).toBeGreaterThanOrEqual(views.old + 1)
    const all = t.walk(0, 3_000)
    expect(all).toHaveLength(2_900)
    expect(all.every((r) => r.v === 2)).toBe(true)
  })
})
