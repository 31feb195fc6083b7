import assert from 'node:assert/strict'
import type { RecordScorer, StorageRecordsSpec, StorageTable } from '@cellar/core'
import type { TestRunner } from '../types.js'

/** The record type the storage table suite stores: a key and two scores. */
export interface StorageTableRow {
  readonly id: string
  readonly a: number
  readonly b: number
}

/** Builds an empty storage table for one test, scored by `scorer` (indexes `a` and `b`). */
export type StorageTableFactory = (
  scorer: RecordScorer<StorageTableRow>,
) => StorageTable<StorageTableRow> | Promise<StorageTable<StorageTableRow>>

/** Scores rows on `a` and `b` by their fields; the primary key is `id`. */
export const storageTableScorer: RecordScorer<StorageTableRow> = {
  indexNames: ['a', 'b'],
  score: (indexName, row) => (indexName === 'a' ? row.a : row.b),
  primaryKey: (row) => row.id,
}

const row = (id: string, a: number, b = 0): StorageTableRow => ({ id, a, b })

function spec(
  indexName: 'a' | 'b',
  intervals: ReadonlyArray<readonly [number, number]>,
  recheck?: (record: StorageTableRow) => boolean,
): StorageRecordsSpec<StorageTableRow> {
  const scoreIntervals = intervals.map(([ge, lt]) => ({ ge, lt }))
  return recheck === undefined
    ? { indexName, scoreIntervals }
    : { indexName, scoreIntervals, recheck }
}

const everything = spec('a', [[Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]])

async function ids(table: StorageTable<StorageTableRow>, s = everything): Promise<string[]> {
  return (await table.getRecords(s)).map((record) => record.id).sort()
}

/**
 * Registers the storage table contract: range reads with rechecks, deletes, and a scratch space
 * whose puts and discards become visible all at once on merge. Run it on your `StorageTable`.
 */
export function describeStorageTable(runner: TestRunner, factory: StorageTableFactory): void {
  const { describe, test } = runner
  const make = async () => {
    const table = await factory(storageTableScorer)
    await table.clear()
    return table
  }
  describe('storage table', () => {
    test('range reads are half-open and per index', async () => {
      const table = await make()
      for (const r of [row('x', 1, 30), row('y', 2, 20), row('z', 3, 10)]) await table.putRecord(r)
      assert.deepEqual(await ids(table, spec('a', [[1, 3]])), ['x', 'y'], 'a in [1, 3)')
      assert.deepEqual(await ids(table, spec('b', [[10, 20]])), ['z'], 'b in [10, 20)')
      assert.deepEqual(
        await ids(
          table,
          spec('a', [
            [1, 2],
            [3, 4],
          ]),
        ),
        ['x', 'z'],
        'two intervals',
      )
      assert.deepEqual(await ids(table, spec('a', [[2, 2]])), [], 'an empty interval holds nothing')
      assert.deepEqual((await table.getRecord('y'))?.id, 'y', 'getRecord by primary key')
      assert.equal(await table.getRecord('nope'), undefined, 'getRecord of a missing key')
    })

    test('two records with equal scores are both returned', async () => {
      const table = await make()
      await table.putRecord(row('p', 5))
      await table.putRecord(row('q', 5))
      assert.deepEqual(await ids(table, spec('a', [[5, 6]])), ['p', 'q'])
    })

    test('a put with an existing key replaces the record and its scores', async () => {
      const table = await make()
      await table.putRecord(row('k', 1))
      await table.putRecord(row('k', 7))
      assert.deepEqual(await ids(table, spec('a', [[1, 2]])), [], 'the old score no longer matches')
      assert.deepEqual(await ids(table, spec('a', [[7, 8]])), ['k'], 'the new score matches')
    })

    test('the recheck drops candidates', async () => {
      const table = await make()
      for (const r of [row('keep', 1), row('drop', 1)]) await table.putRecord(r)
      assert.deepEqual(
        await ids(
          table,
          spec('a', [[0, 10]], (r) => r.id === 'keep'),
        ),
        ['keep'],
      )
    })

    test('a primaryKeys spec gives the same records as the interval walk', async () => {
      const table = await make()
      for (const r of [row('k1', 1), row('k2', 2), row('k3', 3), row('k4', 40)])
        await table.putRecord(r)
      // The keys' scores lie in the intervals, as a spec with primaryKeys promises; k4 is stored
      // but not asked for.
      const scoreIntervals = [
        { ge: 0, lt: 3 },
        { ge: 3, lt: 10 },
      ]
      const wanted = new Set(['k1', 'k2', 'k3', 'k9'])
      const recheck = (r: StorageTableRow) => wanted.has(r.id) && r.id !== 'k3'
      const walked = await table.getRecords({ indexName: 'a', scoreIntervals, recheck })
      const hinted = await table.getRecords({
        indexName: 'a',
        scoreIntervals,
        recheck,
        // k3 fails the recheck, k9 is not stored.
        primaryKeys: ['k1', 'k2', 'k3', 'k9'],
      })
      assert.deepEqual(walked.map((r) => r.id).sort(), ['k1', 'k2'])
      assert.deepEqual(hinted.map((r) => r.id).sort(), ['k1', 'k2'])
      const onlyK2 = (r: StorageTableRow) => r.id === 'k2'
      assert.equal(
        await table.deleteRecords({
          indexName: 'a',
          scoreIntervals,
          recheck: onlyK2,
          primaryKeys: ['k2'],
        }),
        1,
      )
      assert.deepEqual(await ids(table), ['k1', 'k3', 'k4'])
    })

    test('deleteRecords deletes exactly what getRecords returns', async () => {
      const table = await make()
      for (const r of [row('a1', 1), row('a2', 2), row('a3', 2), row('a4', 9)])
        await table.putRecord(r)
      const doomed = spec('a', [[2, 5]], (r) => r.id !== 'a3')
      const expected = await ids(table, doomed)
      assert.equal(
        await table.deleteRecords(doomed),
        expected.length,
        'the count of deleted records',
      )
      assert.deepEqual(await ids(table), ['a1', 'a3', 'a4'])
      assert.deepEqual(expected, ['a2'])
    })

    test('scratch puts are invisible before the merge and visible right after', async () => {
      const table = await make()
      await table.putRecord(row('old', 1))
      await table.scratchPutRecord(row('new', 2))
      assert.deepEqual(await ids(table), ['old'], 'before the merge')
      assert.equal(await table.getRecord('new'), undefined, 'getRecord before the merge')
      await table.scratchMerge()
      assert.deepEqual(await ids(table), ['new', 'old'], 'right after the merge')
    })

    test('the merge calls onVisible once, in the step that shows the staged records', async () => {
      const table = await make()
      await table.putRecord(row('old', 1))
      await table.scratchPutRecord(row('new', 2))
      let calls = 0
      let inside: Promise<readonly StorageTableRow[]> | undefined
      await table.scratchMerge(() => {
        calls++
        inside = table.getRecords(everything)
      })
      assert.equal(calls, 1, 'onVisible called once')
      assert.deepEqual(
        ((await inside) ?? []).map((r) => r.id).sort(),
        ['new', 'old'],
        'a read made inside onVisible sees the merged records',
      )
      let empty = 0
      await table.scratchMerge(() => empty++)
      assert.equal(empty, 1, 'onVisible is called when nothing was staged too')
    })

    test('a discarded record stays visible until the merge', async () => {
      const table = await make()
      for (const r of [row('d', 1), row('e', 5)]) await table.putRecord(r)
      assert.equal(await table.scratchDiscardRecords(spec('a', [[0, 2]])), 1, 'one record staged')
      assert.deepEqual(await ids(table), ['d', 'e'], 'before the merge')
      await table.scratchMerge()
      assert.deepEqual(await ids(table), ['e'], 'after the merge')
    })

    test('a scratch put undoes a discard of the same key', async () => {
      const table = await make()
      await table.putRecord(row('r', 1))
      await table.scratchDiscardRecords(spec('a', [[0, 2]]))
      await table.scratchPutRecord(row('r', 3))
      await table.scratchMerge()
      assert.deepEqual(
        await ids(table, spec('a', [[3, 4]])),
        ['r'],
        'the re-put record at its new score',
      )
      assert.deepEqual(await ids(table, spec('a', [[0, 2]])), [], 'nothing left at the old score')
    })

    test('an overwrite in scratch then a merge leaves exactly one copy', async () => {
      const table = await make()
      await table.putRecord(row('o', 1, 1))
      await table.scratchPutRecord(row('o', 2, 2))
      await table.scratchMerge()
      assert.deepEqual(await ids(table), ['o'], 'one copy on index a')
      assert.deepEqual(
        await ids(table, spec('b', [[Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]])),
        ['o'],
        'one copy on index b',
      )
      assert.equal((await table.getRecord('o'))?.a, 2, 'the staged version won')
    })

    test('clear removes records and anything staged', async () => {
      const table = await make()
      await table.putRecord(row('c', 1))
      await table.scratchPutRecord(row('s', 1))
      await table.clear()
      await table.scratchMerge()
      assert.deepEqual(await ids(table), [])
      assert.equal(await table.getRecord('c'), undefined)
    })
  })
}
