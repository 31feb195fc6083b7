// Deep copies of decoded plain values (plain objects, dense plain arrays, primitives), for the
// codec's decode memo: every read of a remembered value gets its own mutable copy.

const MAX_DEPTH = 32
const OBJECT = Object.prototype
const ARRAY = Array.prototype

/** Not a plain value: a class instance, a sparse array, an accessor, `__proto__`, too deep. */
export const NOT_PLAIN = false

/**
 * How to copy a plain object or array: a shallow copy, then the entries that hold objects or
 * arrays replaced by copies of their own (primitives are shared: they cannot change).
 */
export interface Plan {
  readonly array: boolean
  /** An array's length (0 for an object). */
  readonly length: number
  /** An object's own keys, in order (empty for an array). */
  readonly keys: readonly string[]
  readonly nested: ReadonlyArray<readonly [key: string | number, plan: Plan]>
}

/** The copy plan of a plain value; `NOT_PLAIN` otherwise, `null` for a primitive. */
export function planOf(value: unknown, depth = 0): Plan | null | typeof NOT_PLAIN {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' ? NOT_PLAIN : null
  }
  if (depth > MAX_DEPTH) return NOT_PLAIN
  const proto = Object.getPrototypeOf(value)
  const nested: Array<readonly [string | number, Plan]> = []
  if (proto === ARRAY) {
    const array = value as unknown[]
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) return NOT_PLAIN
      const plan = planOf(array[i], depth + 1)
      if (plan === NOT_PLAIN) return NOT_PLAIN
      if (plan !== null) nested.push([i, plan])
    }
    return { array: true, length: array.length, keys: [], nested }
  }
  if (proto !== OBJECT || Object.getOwnPropertySymbols(value).length !== 0) return NOT_PLAIN
  const keys = Object.getOwnPropertyNames(value)
  for (const key of keys) {
    const field = Object.getOwnPropertyDescriptor(value, key)!
    if (key === '__proto__' || !field.enumerable || !('value' in field)) return NOT_PLAIN
    const plan = planOf(field.value, depth + 1)
    if (plan === NOT_PLAIN) return NOT_PLAIN
    if (plan !== null) nested.push([key, plan])
  }
  return { array: false, length: 0, keys, nested }
}

/** A fresh copy of `value` along its plan: new objects and arrays, the same primitives. */
export function copyPlain(value: unknown, plan: Plan): unknown {
  const source = value as Record<string | number, unknown>
  // Spread and slice copy a plain object's own fields or an array's items in one step.
  const out = plan.array ? (value as unknown[]).slice() : { ...source }
  const nested = plan.nested
  for (let i = 0; i < nested.length; i++) {
    const entry = nested[i]!
    ;(out as Record<string | number, unknown>)[entry[0]] = copyPlain(source[entry[0]], entry[1])
  }
  return out
}

/** A function returning a fresh copy of any value with the shape `plan` was made for. */
export type Copier = (value: unknown) => unknown

// Copiers by their source text: values of one shape (a key rewritten, or many keys holding
// records of one table) share one compiled function.
const COPIERS = new Map<string, Copier>()
const MAX_COPIERS = 256
// Past this a copier's source is not worth compiling: the plan is followed instead.
const MAX_SOURCE = 16_384

/**
 * A copier compiled for the shape of `plan`: one object or array literal per object or array,
 * each reading its fields by name. V8 then copies with inline caches that see one shape only,
 * where `copyPlain`, shared by every shape of every key, turns polymorphic. `undefined` where
 * the source would be too long or code generation is refused (a runtime without `eval`).
 */
export function compileCopier(plan: Plan): Copier | undefined {
  const lines: string[] = ['"use strict";']
  lines.push(`return ${copyExpression(plan, 'v', lines)};`)
  const source = lines.join('\n')
  if (source.length > MAX_SOURCE) return undefined
  let copier = COPIERS.get(source)
  if (copier !== undefined) return copier
  try {
    copier = new Function('v', source) as Copier
  } catch {
    return undefined
  }
  // Full: start over; the shapes still read come back on their next compile.
  if (COPIERS.size >= MAX_COPIERS) COPIERS.clear()
  COPIERS.set(source, copier)
  return copier
}

// The expression copying the value in local `name`; locals it needs go to `lines`. Keys are
// written as JSON strings, which are JavaScript string literals too (planOf refused
// `__proto__`, the one key a literal would not make an own property of).
function copyExpression(plan: Plan, name: string, lines: string[]): string {
  const nested = new Map<string | number, string>()
  for (const [key, inner] of plan.nested) {
    const local = `v${lines.length}`
    lines.push(`const ${local} = ${name}[${JSON.stringify(key)}];`)
    nested.set(key, copyExpression(inner, local, lines))
  }
  if (plan.array) {
    if (nested.size === 0) return `${name}.slice()`
    const items: string[] = []
    for (let i = 0; i < plan.length; i++) items.push(nested.get(i) ?? `${name}[${i}]`)
    return `[${items.join(', ')}]`
  }
  const fields = plan.keys.map((key) => {
    const literal = JSON.stringify(key)
    return `${literal}: ${nested.get(key) ?? `${name}[${literal}]`}`
  })
  return `{${fields.join(', ')}}`
}
