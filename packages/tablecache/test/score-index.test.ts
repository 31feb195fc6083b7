import type { StorageRecordsSpec } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { LocalStorageTable } from '../src/index.js'
import {
  emptyIndex,
  indexPut,
  indexRange,
  indexRemove,
  readsLeavesDirectly,
} from '../src/score-index.js'

interface Row {
  id: string
  a: number
}

const primaryKey = (r: Row) => r.id

// What a range read must return, computed from the records themselves: by score, then by key.
function expected(rows: readonly Row[], intervals: readonly { ge: number; lt: number }[]): Row[] {
  return rows
    .filter((r) => intervals.some(({ ge, lt }) => ge <= r.a && r.a < lt))
    .sort((x, y) => x.a - y.a || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
}

function spec(
  intervals: readonly { ge: number; lt: number }[],
  recheck?: (r: Row) => boolean,
): StorageRecordsSpec<Row> {
  return { indexName: 'a', scoreIntervals: intervals, recheck }
}

describe('range reads over many tree nodes', () => {
  test('this sorted-btree is read leaf by leaf (a new layout would fall back to forRange)', () => {
    expect(readsLeavesDirectly).toBe(true)
  })

  // 3,000 records in ascending order leave leaves half full: about 24 leaves under a few inner
  // nodes, so ranges start, end and cross at every kind of node boundary.
  const rows = Array.from({ length: 3_000 }, (_, i) => ({ id: `r${i}`, a: i * 2 }))
  const index = emptyIndex<Row>()
  for (const row of rows) indexPut(index, row.a, row.id, row, primaryKey)

  test('every range returns the records inside it, in score order', () => {
    const bounds = [-10, -1, 0, 1, 2, 127, 128, 255, 256, 257, 511, 512, 3_000, 5_998, 5_999, 6_010]
    for (const ge of bounds) {
      for (const lt of bounds) {
        if (ge >= lt) continue
        expect(indexRange(index, spec([{ ge, lt }]))).toEqual(expected(rows, [{ ge, lt }]))
      }
    }
    for (let ge = 0; ge < 6_000; ge += 97) {
      for (const width of [1, 3, 100, 255, 256, 257, 600]) {
        const wanted = [{ ge, lt: ge + width }]
        expect(indexRange(index, spec(wanted))).toEqual(expected(rows, wanted))
      }
    }
  })

  test('empty and inverted intervals select nothing; several intervals concatenate', () => {
    expect(indexRange(index, spec([{ ge: 10, lt: 10 }]))).toEqual([])
    expect(indexRange(index, spec([]))).toEqual([])
    expect(indexRange(emptyIndex<Row>(), spec([{ ge: 0, lt: 100 }]))).toEqual([])
    const wanted = [
      { ge: 0, lt: 5 },
      { ge: 510, lt: 520 },
      { ge: 1_000, lt: 1_600 },
    ]
    expect(indexRange(index, spec(wanted))).toEqual(expected(rows, wanted))
  })

  test('the recheck is applied, and the result is a fresh array', () => {
    const wanted = [{ ge: 100, lt: 900 }]
    const odd = (r: Row) => r.a % 4 === 2
    expect(indexRange(index, spec(wanted, odd))).toEqual(expected(rows, wanted).filter(odd))
    const first = indexRange(index, spec(wanted))
    first.length = 0
    expect(indexRange(index, spec(wanted))).toHaveLength(400)
  })

  test('a clone keeps its records while the original changes', () => {
    const copy = index.clone()
    const wanted = [{ ge: 0, lt: 6_000 }]
    for (let i = 0; i < 3_000; i += 3) {
      indexRemove(copy, (rows[i] as Row).a, (rows[i] as Row).id, primaryKey)
    }
    expect(indexRange(index, spec(wanted))).toEqual(rows)
    expect(indexRange(copy, spec(wanted))).toEqual(rows.filter((_, i) => i % 3 !== 0))
  })

  test('records sharing a score come back by key, next to the others', () => {
    const shared = emptyIndex<Row>()
    const all: Row[] = []
    for (let i = 0; i < 1_000; i++) {
      const row = { id: `k${i}`, a: i < 500 ? i : 500 + (i % 7) }
      all.push(row)
      indexPut(shared, row.a, row.id, row, primaryKey)
    }
    for (const wanted of [[{ ge: 0, lt: 1_000 }], [{ ge: 499, lt: 502 }], [{ ge: 3, lt: 4 }]]) {
      expect(indexRange(shared, spec(wanted))).toEqual(expected(all, wanted))
    }
  })
})

describe('LocalStorageTable range reads after merges', () => {
  const scorer = {
    indexNames: ['a'],
    score: (_name: string, r: Row) => r.a,
    primaryKey: (r: Row) => r.id,
  }

  test('a read sees the merged version whole, across many leaves', async () => {
    const table = new LocalStorageTable<Row>(scorer)
    const first = Array.from({ length: 2_000 }, (_, i) => ({ id: `r${i}`, a: i }))
    for (const row of first) await table.scratchPutRecord(row)
    await table.scratchMerge()
    expect(await table.getRecords(spec([{ ge: 0, lt: 2_000 }]))).toEqual(first)
    await table.scratchDiscardRecords(spec([{ ge: 500, lt: 1_500 }]))
    const moved = Array.from({ length: 300 }, (_, i) => ({ id: `m${i}`, a: 10_000 + i }))
    for (const row of moved) await table.scratchPutRecord(row)
    expect(table.getRecordsSync(spec([{ ge: 0, lt: 20_000 }]))).toEqual(first)
    await table.scratchMerge()
    const now = [...first.filter((r) => r.a < 500 || r.a >= 1_500), ...moved]
    expect(table.getRecordsSync(spec([{ ge: 0, lt: 20_000 }]))).toEqual(now)
    expect(table.getRecordsSync(spec([{ ge: 499, lt: 1_501 }]))).toEqual(
      expected(now, [{ ge: 499, lt: 1_501 }]),
    )
  })
})
