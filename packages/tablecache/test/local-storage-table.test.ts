import {
  createRecordingRunner,
  describeStorageTable,
  type StorageTableRow,
} from '@cellar/conformance'
import type { RecordScorer, StorageRecordsSpec, StorageTable } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { LocalStorageTable } from '../src/index.js'

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
      getRecords: async function* (s: StorageRecordsSpec<Row>) {
        const seen = new Set<number>()
        for await (const r of inner.getRecords(s)) {
          if (seen.has(r.a)) continue
          seen.add(r.a)
          yield r
        }
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

test('records are stored by reference and a read keeps its version through later writes', async () => {
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
  const reading = table
    .getRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 10 }] })
    [Symbol.asyncIterator]()
  expect((await reading.next()).value).toBe(first)
  await table.deleteRecords({ indexName: 'a', scoreIntervals: [{ ge: 0, lt: 10 }] })
  await table.putRecord({ id: '3', a: 1.5, b: 0 })
  expect((await reading.next()).value?.id).toBe('2')
  expect((await reading.next()).done).toBe(true)
})
