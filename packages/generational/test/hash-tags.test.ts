import { describe, expect, test } from 'vitest'
import {
  canonical,
  dependencyEntityTags,
  dependencyListTags,
  entityTags,
  listTags,
  parseDependencies,
  stableHash,
  writeTags,
} from '../src/index.js'

describe('stableHash', () => {
  test('does not depend on key order, and tells types apart', () => {
    expect(stableHash({ a: 1, b: [1, 'x'] })).toBe(stableHash({ b: [1, 'x'], a: 1 }))
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: '1' }))
    expect(stableHash({ a: 1, skip: undefined })).toBe(stableHash({ a: 1 }))
    expect(canonical({ d: new Date(0), n: 2n, z: -0 })).toBe('{"d":D0,"n":2n,"z":-0}')
  })

  test('values without a stable form have no hash', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    class Filter {
      category = 1
    }
    for (const value of [
      () => 1,
      Symbol('s'),
      new Map([[1, 2]]),
      new Set([1]),
      new Filter(),
      [undefined],
      cycle,
      { when: new Date(Number.NaN) },
    ]) {
      expect(stableHash(value)).toBeUndefined()
    }
  })
})

describe('tags', () => {
  test('entity, list and write tags follow loom', () => {
    expect(entityTags('product', 7)).toEqual(['product', 'product:id:7'])
    expect(entityTags('product')).toEqual(['product'])
    expect(listTags('product', 'h')).toEqual(['product', 'product:list', 'product:list:filters:h'])
    expect(writeTags('product', [7])).toEqual(['product', 'product:list', 'product:id:7'])
  })

  test('"child:fk" specs add the child and its rows of this id', () => {
    const deps = parseDependencies(['product:category_id', 'product:category_id'])
    expect(deps).toEqual([{ entity: 'product', foreignKey: 'category_id' }])
    expect(dependencyListTags(deps)).toEqual(['product', 'product:list'])
    expect(dependencyEntityTags(deps, 3)).toEqual([
      'product',
      'product:list',
      'product:category_id:3',
    ])
  })

  test('a malformed spec is a typed error', () => {
    for (const spec of ['product', ':fk', 'product:', 'a:b:c', 'pro duct:fk', 7]) {
      expect(() => parseDependencies([spec as string])).toThrow(
        expect.objectContaining({ code: 'E_INVALID_DEPENDENCY' }),
      )
    }
  })
})
