import { describe, expect, test } from 'vitest'
import { Interval, StorageRecordsSpec } from '../src/index.js'

describe('Interval', () => {
  test('is half-open: ge is inside, lt is not', () => {
    const interval = new Interval(1, 3)
    expect([0.5, 1, 2.999, 3].map((v) => interval.contains(v))).toEqual([false, true, true, false])
  })

  test('ge > lt and NaN bounds throw E_INVALID_INTERVAL', () => {
    expect(() => new Interval(2, 1)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_INTERVAL' }),
    )
    expect(() => new Interval(Number.NaN, 1)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_INTERVAL' }),
    )
  })

  test('ge === lt is empty and holds nothing', () => {
    const empty = new Interval(4, 4)
    expect(empty.isEmpty).toBe(true)
    expect(empty.contains(4)).toBe(false)
  })

  test('everything() holds every finite score', () => {
    const all = Interval.everything()
    expect([-Number.MAX_VALUE, 0, Number.MAX_VALUE].every((v) => all.contains(v))).toBe(true)
  })

  test('onlyContaining(v) holds v and no other double', () => {
    for (const v of [0, 1, -1, 0.1, 2 ** 52, -(2 ** 60), Number.MAX_VALUE / 2]) {
      const only = Interval.onlyContaining(v)
      expect(only.contains(v)).toBe(true)
      expect(only.lt).toBeGreaterThan(v)
      expect(only.contains(only.lt)).toBe(false)
    }
    expect(() => Interval.onlyContaining(Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_INTERVAL' }),
    )
  })

  test('intersects: overlap yes; adjacency and emptiness no', () => {
    const a = new Interval(0, 10)
    expect(a.intersects(new Interval(9, 20))).toBe(true)
    expect(a.intersects(new Interval(-5, 0.5))).toBe(true)
    expect(a.intersects(new Interval(10, 20))).toBe(false)
    expect(new Interval(10, 20).intersects(a)).toBe(false)
    expect(a.intersects(new Interval(5, 5))).toBe(false)
    expect(new Interval(5, 5).intersects(new Interval(5, 5))).toBe(false)
  })

  test('covers: equal and inner intervals yes, sticking out no, empty always', () => {
    const a = new Interval(0, 10)
    expect(a.covers(a)).toBe(true)
    expect(a.covers(new Interval(2, 10))).toBe(true)
    expect(a.covers(new Interval(9, 11))).toBe(false)
    expect(a.covers(new Interval(-1, 1))).toBe(false)
    expect(a.covers(new Interval(50, 50))).toBe(true)
    expect(new Interval(3, 3).covers(new Interval(3, 4))).toBe(false)
  })
})

describe('StorageRecordsSpec', () => {
  test('adjacent intervals are fine, overlapping ones throw E_INVALID_SPEC', () => {
    const spec = new StorageRecordsSpec('i', [new Interval(0, 1), { ge: 1, lt: 2 }])
    expect(spec.scoreIntervals).toHaveLength(2)
    expect(() => new StorageRecordsSpec('i', [new Interval(0, 2), new Interval(1, 3)])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_SPEC' }),
    )
  })

  test('an overlap is found past an empty interval and past a shorter one, in any order', () => {
    const overlapping = [
      [new Interval(0, 10), new Interval(5, 5), new Interval(6, 8)],
      [new Interval(6, 8), new Interval(2, 3), new Interval(0, 10)],
      [new Interval(0, 10), new Interval(1, 2), new Interval(9, 12)],
    ]
    for (const intervals of overlapping) {
      expect(() => new StorageRecordsSpec('i', intervals)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_SPEC' }),
      )
    }
    const apart = new StorageRecordsSpec('i', [new Interval(5, 6), new Interval(0, 5)])
    expect(apart.scoreIntervals.map(String)).toEqual(['[5, 6)', '[0, 5)'])
  })

  test('intervals given as a function are computed once, on first use, and checked then', () => {
    let calls = 0
    const spec = new StorageRecordsSpec('i', () => {
      calls++
      return [{ ge: 0, lt: 1 }]
    })
    expect(calls).toBe(0)
    expect(spec.scoreIntervals).toEqual([new Interval(0, 1)])
    expect(spec.scoreIntervals).toBe(spec.scoreIntervals)
    expect(calls).toBe(1)
    expect(Object.isFrozen(spec.scoreIntervals)).toBe(true)
    const bad = new StorageRecordsSpec('i', () => [new Interval(0, 2), new Interval(1, 3)])
    expect(() => bad.scoreIntervals).toThrow(expect.objectContaining({ code: 'E_INVALID_SPEC' }))
  })

  test('between checks its bounds at once and builds its one interval when read', () => {
    const spec = StorageRecordsSpec.between<{ id: string }>('i', 2, 5)
    expect(spec.recheck).toBeUndefined()
    expect(spec.primaryKeys).toBeUndefined()
    expect(spec.scoreIntervals).toEqual([new Interval(2, 5)])
    expect(Object.isFrozen(spec.scoreIntervals)).toBe(true)
    expect(spec.matches(4, { id: 'x' })).toBe(true)
    expect(spec.matches(5, { id: 'x' })).toBe(false)
    for (const [ge, lt] of [
      [3, 1],
      [Number.NaN, 1],
      [0, Number.NaN],
    ] as const) {
      expect(() => StorageRecordsSpec.between('i', ge, lt)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_INTERVAL' }),
      )
    }
  })

  test('matches applies the intervals and the recheck', () => {
    const spec = new StorageRecordsSpec<{ id: string }>(
      'i',
      [new Interval(0, 5)],
      (r) => r.id !== 'no',
    )
    expect(spec.matches(1, { id: 'yes' })).toBe(true)
    expect(spec.matches(1, { id: 'no' })).toBe(false)
    expect(spec.matches(5, { id: 'yes' })).toBe(false)
  })
})
