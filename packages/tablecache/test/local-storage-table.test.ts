import {
  createRecordingRunner,
  describeStorageTable,
  type StorageTableRow,
} from '@cellar/conformance'
import type { RecordScorer, StorageRecordsSpec, StorageTable } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { LocalStorageTable, PrimaryKeyIndexes } from '../src/index.js'

describeStorageTable({ describe, test }, (scorer) => new LocalStorageTable(scorer))

type Row = StorageTableRow
type Breakage = (inner: LocalStorageTable<Row>) => Partial<StorageTable<Row>>

// Each variant breaks one rule; the suite must catch every one of them.
const broken: Record<string, { breakage: Breakage; fails: string }> = {
  'scratch puts land at once': {
    breakage: (inner) => ({ scratchPutRecord: (r) => inner.putRecord(r) }),
    fails: 'scratch puts are invisible before the merge and visible right after',
  },
  'scratch puts never land': {
    breakage: () => ({ scratchPutRecord: async () => undefined }),
    fails: 'scratch puts are invisible before the merge and visible right after',
  },
  'discards delete at once': {
    breakage: (inner) => ({ scratchDiscardRecords: (s) => inner.deleteRecords(s) }),
    fails: 'a discarded record stays visible until the merge',
  },
  'a re-put does not undo a discard': {
    breakage: (inner) => ({
      scratchPutRecord: async (r) => {
        await inner.scratchPutRecord(r)
        await inner.scratchDiscardRecords({
          indexName: 'a',
          scoreIntervals: [{ ge: r.a, lt: r.a + 1 }],
        })
      },
    }),
    fails: 'a scratch put undoes a discard of the same key',
  },
  'equal scores collapse': {
    breakage: (inner) => ({
      getRecords: async (s: StorageRecordsSpec<Row>) => {
        const seen = new Set<number>()
        return (await inner.getRecords(s)).filter((r) => {
          if (seen.has(r.a)) return false
          seen.add(r.a)
          return true
        })
      },
    }),
    fails: 'two records with equal scores are both returned',
  },
  'the recheck is ignored': {
    breakage: (inner) => ({
      getRecords: (s) =>
        inner.getRecords({ indexName: s.indexName, scoreIntervals: s.scoreIntervals }),
    }),
    fails: 'the recheck drops candidates',
  },
  'deleteRecords ignores the recheck': {
    breakage: (inner) => ({
      deleteRecords: (s) =>
        inner.deleteRecords({ indexName: s.indexName, scoreIntervals: s.scoreIntervals }),
    }),
    fails: 'deleteRecords deletes exactly what getRecords returns',
  },
  'clear keeps the scratch space': {
    breakage: (inner) => ({
      clear: async () => {
        await inner.deleteRecords({
          indexName: 'a',
          scoreIntervals: [{ ge: Number.NEGATIVE_INFINITY, lt: Number.POSITIVE_INFINITY }],
        })
      },
    }),
    fails: 'clear removes records and anything staged',
  },
  'the merge never calls onVisible': {
    breakage: (inner) => ({ scratchMerge: () => inner.scratchMerge() }),
    fails: 'the merge calls onVisible once, in the step that shows the staged records',
  },
  'onVisible runs before the merged records show': {
    breakage: (inner) => ({
      scratchMerge: (onVisible?: () => void) => {
        onVisible?.()
        return inner.scratchMerge()
      },
    }),
    fails: 'the merge calls onVisible once, in the step that shows the staged records',
  },
  'a merge duplicates an overwritten record': {
    breakage: (inner) => ({
      scratchMerge: async () => {
        await inner.scratchMerge()
        const o = await inner.getRecord('o')
        if (o !== undefined) await inner.putRecord({ ...o, id: 'o-copy' })
      },
    }),
    fails: 'an overwrite in scratch then a merge leaves exactly one copy',
  },
}

describe('the storage table suite catches broken tables', () => {
  for (const [label, { breakage, fails }] of Object.entries(broken)) {
    test(label, async () => {
      const runner = createRecordingRunner()
      describeStorageTable(runner, (scorer) => {
        const inner = new LocalStorageTable(scorer)
        const overrides = breakage(inner)
        return new Proxy(inner, {
          get: (target, key) => {
            const own = (overrides as Record<PropertyKey, unknown>)[key]
            if (own !== undefined) return own
            const value = Reflect.get(target, key, target)
            return typeof value === 'function' ? value.bind(target) : value
          },
        })
      })
      const results = await runner.run()
      const failed = results.filter((r) => r.status === 'failed').map((r) => r.test.title)
      expect(failed).toContain(fails)
    })
  }
})

test('records are stored by reference and a read keeps the view it was called on', async () => {
  const scorer: RecordScorer<Row> = {
    indexNames: ['a'],
    score: (_, r) => r.a,
    primaryKey: (r) => r.id,
  }
  const table = new LocalStorageTable(scorer)
  const first = { id: '1', a: 1, b: 0 }
  await table.putRecord(first)
  await table.putRecord({ id: '2', a: 2, b: 0 })
  expect(await table.getRecord('1')).toBe(first)
  const reading = table.getRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 10 }] })
  await table.deleteRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 10 }] })
  await table.putRecord({ id: '3', a: 1.5, b: 0 })
  const view = await reading
  expect(view[0]).toBe(first)
  expect(view.map((r) => r.id)).toEqual(['1', '2'])
})

test('reads during a sliced merge see the old set until the new one is swapped in whole', async () => {
  const scorer: RecordScorer<Row> = {
    indexNames: ['a'],
    score: (_, r) => r.a,
    primaryKey: (r) => r.id,
  }
  const table = new LocalStorageTable(scorer)
  const all = { indexName: 'a', scoreIntervals: [{ ge: 0, lt: 1e9 }] }
  for (let i = 0; i < 3_000; i++) await table.putRecord({ id: `k${i}`, a: i, b: 1 })
  await table.scratchDiscardRecords(all)
  for (let i = 0; i < 3_000; i++) await table.scratchPutRecord({ id: `k${i}`, a: i, b: 2 })
  let merged = false
  const merging = table.scratchMerge().then(() => {
    merged = true
  })
  const views: Array<{ version: Set<number>; size: number }> = []
  expect(table.synchronous).toBe(true)
  while (!merged) {
    // The synchronous read and the pinned asynchronous one, taken in the same step, agree.
    const now = table.getRecordsSync(all)
    const view = await table.getRecords(all)
    expect(now).toEqual(view)
    views.push({ version: new Set(view.map((r) => r.b)), size: view.length })
    await new Promise((resolve) => setImmediate(resolve))
  }
  await merging
  // 6,000 changes in slices of 1,000: reads ran between the slices, each on one whole set.
  expect(views.length).toBeGreaterThan(1)
  for (const view of views) expect(view).toMatchObject({ size: 3_000 })
  expect(views.every((v) => v.version.size === 1)).toBe(true)
  expect(views.some((v) => v.version.has(1))).toBe(true)
  expect([...new Set((await table.getRecords(all)).map((r) => r.b))]).toEqual([2])
})

test('records sharing one score: a sliced merge changes a copy of the group, never the group readers see', async () => {
  const scorer: RecordScorer<Row> = {
    indexNames: ['a'],
    score: (_, r) => r.a,
    primaryKey: (r) => r.id,
  }
  const table = new LocalStorageTable(scorer)
  const all = { indexName: 'a', scoreIntervals: [{ ge: 7, lt: 8 }] }
  // One score for every record: the index holds one group of 3,000.
  for (let i = 0; i < 3_000; i++) await table.putRecord({ id: `k${i}`, a: 7, b: 1 })
  await table.scratchDiscardRecords({ ...all, recheck: (r) => r.id < 'k2' })
  for (let i = 0; i < 1_500; i++) await table.scratchPutRecord({ id: `k${i}`, a: 7, b: 2 })
  let merged = false
  const merging = table.scratchMerge().then(() => {
    merged = true
  })
  const views: Array<{ ones: number; twos: number }> = []
  while (!merged) {
    const view = table.getRecordsSync(all)
    views.push({
      ones: view.filter((r) => r.b === 1).length,
      twos: view.filter((r) => r.b === 2).length,
    })
    await new Promise((resolve) => setImmediate(resolve))
  }
  await merging
  expect(views.length).toBeGreaterThan(1)
  for (const view of views) expect(view).toEqual({ ones: 3_000, twos: 0 })
  const after = table.getRecordsSync(all)
  // k0…k1499 replaced; of the rest, those below 'k2' (k1500…k1999) discarded.
  expect(after.filter((r) => r.b === 2)).toHaveLength(1_500)
  expect(after.filter((r) => r.b === 1).map((r) => r.id)).toEqual(
    Array.from({ length: 1_000 }, (_, i) => `k${i + 2_000}`).sort(),
  )
  // One record left at a score leaves the group; the read still finds it.
  await table.deleteRecords({ ...all, recheck: (r) => r.id !== 'k2999' })
  expect(table.getRecordsSync(all).map((r) => r.id)).toEqual(['k2999'])
})

describe('LocalStorageTable reads by key', () => {
  const scorer: RecordScorer<Row> = {
    indexNames: ['a', 'b'],
    score: (name, r) => (name === 'a' ? r.a : r.b),
    primaryKey: (r) => r.id,
  }

  test('a primaryKeys spec is answered by key, never reading its intervals', async () => {
    const table = new LocalStorageTable(scorer)
    for (const id of ['k1', 'k2', 'k3']) await table.putRecord({ id, a: 1, b: 2 })
    const spec: StorageRecordsSpec<Row> = {
      indexName: 'a',
      get scoreIntervals(): never {
        throw new Error('the intervals were read')
      },
      recheck: (r) => r.id !== 'k2',
      primaryKeys: ['k3', 'k2', 'k1', 'missing'],
    }
    expect(table.getRecordsSync(spec).map((r) => r.id)).toEqual(['k3', 'k1'])
    expect((await table.getRecords(spec)).map((r) => r.id)).toEqual(['k3', 'k1'])
  })
})

describe('LocalStorageTable row keys', () => {
  const scorer: RecordScorer<Row> = {
    indexNames: ['a'],
    score: (_name, r) => r.a,
    primaryKey: (r) => r.id,
  }
  // Integer keys below 2^30 sit in an array, the rest (and look-alikes such as '07') in a map.
  const ids = [
    '0',
    '7',
    '07',
    '1073741823',
    '1073741824',
    '123456789012345',
    '1234567890123456',
    'x',
  ]

  test('integer-like and other keys are stored, read, replaced and deleted apart', async () => {
    const table = new LocalStorageTable(scorer)
    for (const [i, id] of ids.entries()) await table.putRecord({ id, a: i, b: 0 })
    for (const [i, id] of ids.entries())
      expect(await table.getRecord(id)).toEqual({ id, a: i, b: 0 })
    const byKey = table.getRecordsSync({
      indexName: 'a',
      scoreIntervals: [{ ge: 0, lt: ids.length }],
      primaryKeys: [...ids].reverse(),
    })
    expect(byKey.map((r) => r.id)).toEqual([...ids].reverse())
    await table.putRecord({ id: '7', a: 1, b: 9 })
    expect(await table.getRecord('7')).toEqual({ id: '7', a: 1, b: 9 })
    expect(await table.getRecord('07')).toEqual({ id: '07', a: 2, b: 0 })
    expect(await table.deleteRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 4 }] })).toBe(
      4,
    )
    for (const id of ['0', '7', '07', '1073741823'])
      expect(await table.getRecord(id)).toBeUndefined()
    expect(
      (await table.getRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 99 }] })).map(
        (r) => r.id,
      ),
    ).toEqual(ids.slice(4))
    await table.clear()
    for (const id of ids) expect(await table.getRecord(id)).toBeUndefined()
  })

  test('keys left far apart by a moving window still read back', async () => {
    const table = new LocalStorageTable(scorer)
    for (let i = 0; i < 2_000; i++) await table.putRecord({ id: String(i * 500_000), a: i, b: 0 })
    await table.deleteRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 1_990 }] })
    const left = await table.getRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 2_000 }] })
    expect(left.map((r) => r.a)).toEqual(Array.from({ length: 10 }, (_, i) => 1_990 + i))
    expect(await table.getRecord(String(1_999 * 500_000))).toMatchObject({ a: 1_999 })
    expect(await table.getRecord('0')).toBeUndefined()
  })
})

describe('LocalStorageTable answers key specs built by the indexes', () => {
  interface Keyed {
    key: string | number
  }
  const indexes = new PrimaryKeyIndexes<Keyed>({
    primaryKey: (r) => r.key,
    queryAll: () => undefined,
    queryKeys: () => undefined,
  })
  const stored: Keyed[] = [0, 7, 1.5, -1, 1e15, 999_999_999_999_999, 2 ** 30, '07', 'x', 'NaN'].map(
    (key) => ({ key }),
  )
  // The same records as the spec's hash intervals and recheck select: what a storage that walks
  // the intervals (Redis) returns.
  const byIntervals = (table: LocalStorageTable<Keyed>, keys: unknown[]) => {
    const spec = indexes.storageRecordsSpec({ indexName: 'primaryKey', keys })
    return table.getRecordsSync({
      indexName: spec.indexName,
      scoreIntervals: spec.scoreIntervals,
      recheck: spec.recheck,
    })
  }
  const read = (table: LocalStorageTable<Keyed>, keys: unknown[]) =>
    table.getRecordsSync(indexes.storageRecordsSpec({ indexName: 'primaryKey', keys }))
  const sorted = (records: readonly Keyed[]) => records.map((r) => String(r.key)).sort()

  test('numbers and strings name a record by their string form, each record once', async () => {
    const table = new LocalStorageTable(indexes)
    for (const record of stored) await table.putRecord(record)
    const requests: unknown[][] = [
      [7, '7', 7, 0, -0, '0'],
      [1.5, '1.5', -1, '-1', 1e15, '1000000000000000', 999_999_999_999_999, 2 ** 30],
      ['07', 'x', Number.NaN, 'NaN', 'missing', 8, 1e21, 0.1],
      ['07', 7, '7.0', 7.0, '+7'],
      [7, 0, -0, 7.0, 1.5, Number.NaN, Number.NaN, 3],
      [7, 0, -0, 7, 2 ** 30, 2 ** 30],
      Array.from({ length: 300 }, (_, i) => i % 8),
      [2 ** 31, 2 ** 31, 1e15],
      [],
    ]
    const expected = [
      ['0', '7'],
      ['-1', '1.5', '1000000000000000', '1073741824', '999999999999999'],
      ['07', 'NaN', 'x'],
      ['07', '7'],
      ['0', '1.5', '7', 'NaN'],
      ['0', '1073741824', '7'],
      ['0', '7'],
      ['1000000000000000'],
      [],
    ]
    requests.forEach((keys, i) => {
      expect(sorted(read(table, keys))).toEqual(expected[i])
      expect(read(table, keys)).toHaveLength(expected[i]?.length ?? -1)
      expect(sorted(byIntervals(table, keys))).toEqual(expected[i])
    })
  })

  test('the spec lists its keys once each as strings, and keeps a copy of the request', async () => {
    const table = new LocalStorageTable(indexes)
    for (const record of stored) await table.putRecord(record)
    const keys: unknown[] = [7, '7', 0, 'x', -0]
    const spec = indexes.storageRecordsSpec({ indexName: 'primaryKey', keys })
    keys.splice(0, keys.length, 1.5)
    expect(spec.primaryKeys).toEqual(['7', '0', 'x'])
    expect(sorted(table.getRecordsSync(spec))).toEqual(['0', '7', 'x'])
    expect(spec.recheck?.({ key: '7' })).toBe(true)
    expect(spec.recheck?.({ key: 1.5 })).toBe(false)
  })
})
