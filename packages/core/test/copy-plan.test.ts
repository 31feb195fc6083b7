import { describe, expect, test } from 'vitest'
import { compileCopier, copyPlain, type Plan, planOf } from '../src/copy-plan.js'
import { MsgpackSerializer, ValueCodec } from '../src/index.js'

const read = (stored: Uint8Array) => stored.slice()

// Every object and array reachable from a value, to check that a copy shares none of them.
function containers(value: unknown, out = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    out.add(value)
    for (const item of Object.values(value)) containers(item, out)
  }
  return out
}

const awkward = () => ({
  plain: 1,
  'quote"and\\backslash': 'q',
  'line\u2028separator': 2,
  'lone \ud800 surrogate': 3,
  '': 'empty key',
  '7': 'integer-like key',
  constructor: 'own field named constructor',
  nested: [[1, [2, { deep: [] as unknown[] }]], { a: undefined, b: null }, 'tail', 4],
  rows: [
    { id: 1, tags: ['a'] },
    { id: 2, tags: [] as string[] },
  ],
})

describe('compiled copiers', () => {
  test('copy like the plan does: same own keys in order, equal, nothing shared', () => {
    const value = awkward()
    const plan = planOf(value) as Plan
    const copier = compileCopier(plan)
    expect(copier).toBeTypeOf('function')
    const copy = copier!(value)
    expect(copy).toStrictEqual(copyPlain(value, plan))
    expect(copy).toStrictEqual(value)
    expect(Reflect.ownKeys(copy as object)).toEqual(Reflect.ownKeys(value))
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    const shared = [...containers(copy)].filter((item) => containers(value).has(item))
    expect(shared).toEqual([])
  })

  test('values of one shape share a copier; another array length is another shape', () => {
    const a = compileCopier(planOf({ x: 1, list: [{ y: 1 }, 2] }) as Plan)
    const b = compileCopier(planOf({ x: 'other', list: [{ y: 'z' }, 3] }) as Plan)
    const c = compileCopier(planOf({ x: 1, list: [{ y: 1 }, 2, 3] }) as Plan)
    expect(b).toBe(a)
    expect(c).not.toBe(a)
    expect(c!({ x: 1, list: [{ y: 1 }, 2, 3] })).toEqual({ x: 1, list: [{ y: 1 }, 2, 3] })
  })

  test('the codec copies hot keys with them: each read its own value, changes never leak', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const stored = codec.encode('k', awkward()) as Uint8Array
    // What decoding gives (a lone surrogate does not survive UTF-8), from a codec of its own.
    const decoded = () => new ValueCodec(new MsgpackSerializer(), false).decode('k', stored)
    // Enough reads for the codec to switch to the compiled copier (from the 64th copy on).
    const values = Array.from({ length: 80 }, () => codec.decode('k', read(stored)))
    for (const value of values) expect(value).toStrictEqual(decoded())
    expect(new Set(values).size).toBe(values.length)
    const last = values[79] as ReturnType<typeof awkward>
    last.rows[0]!.tags.push('mutated')
    ;(last.nested[1] as { b: unknown }).b = 'changed'
    last.plain = 99
    for (let i = 0; i < 3; i++) expect(codec.decode('k', read(stored))).toStrictEqual(decoded())
    // New bytes under the hot key: decoded, then copied along the new value's shape.
    const next = codec.encode('k', { other: ['shape'] }) as Uint8Array
    for (let i = 0; i < 80; i++) expect(codec.decode('k', read(next))).toEqual({ other: ['shape'] })
  })

  test('a runtime that refuses code generation keeps copying along the plan', () => {
    const original = globalThis.Function
    const refuse = function refuse() {
      throw new EvalError('code generation from strings disallowed')
    } as unknown as FunctionConstructor
    globalThis.Function = refuse
    try {
      expect(compileCopier(planOf({ refused: [1, { a: 2 }] }) as Plan)).toBeUndefined()
    } finally {
      globalThis.Function = original
    }
  })
})
