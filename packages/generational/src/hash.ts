import { createHash } from 'node:crypto'

/** Characters of base64url kept from the SHA-256: 96 bits. */
const HASH_LENGTH = 16

/** A short stable hash of a string: the first 16 base64url characters of its SHA-256. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, HASH_LENGTH)
}

/**
 * A canonical text for `value`, or `undefined` when it has no stable one. Stable: strings,
 * finite and non-finite numbers, booleans, `null`, bigints, valid `Date`s, arrays and plain
 * objects of those (keys sorted; `undefined` properties left out, as JSON does). Anything else —
 * functions, symbols, class instances, `Map`/`Set`, `undefined` in an array, cycles — is not.
 */
export function canonical(value: unknown): string | undefined {
  return encode(value, new Set())
}

/** `shortHash(canonical(value))`, or `undefined` when the value cannot be hashed stably. */
export function stableHash(value: unknown): string | undefined {
  const text = canonical(value)
  return text === undefined ? undefined : rememberedHash(text)
}

// The same filter, page and fingerprint texts come back on every read until a bump, and a
// SHA-256 costs several Map lookups; the hash is a pure function of the text, so remembering
// it saves only CPU. Long texts are not kept, and the whole memo is dropped when full.
const REMEMBERED = 8192
const REMEMBERED_LENGTH = 1024
const remembered = new Map<string, string>()

/** `shortHash(text)`, remembered for recent short texts. */
export function rememberedHash(text: string): string {
  let hashed = remembered.get(text)
  if (hashed !== undefined) return hashed
  hashed = shortHash(text)
  if (text.length <= REMEMBERED_LENGTH) {
    if (remembered.size >= REMEMBERED) remembered.clear()
    remembered.set(text, hashed)
  }
  return hashed
}

function encode(value: unknown, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return `${value}n`
    case 'object':
      return value === null ? 'null' : encodeObject(value, seen)
    default:
      return undefined
  }
}

function encodeObject(value: object, seen: Set<object>): string | undefined {
  if (value instanceof Date) {
    const time = value.getTime()
    return Number.isNaN(time) ? undefined : `D${time}`
  }
  if (seen.has(value)) return undefined
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      const parts: string[] = []
      for (const item of value) {
        const part = item === undefined ? undefined : encode(item, seen)
        if (part === undefined) return undefined
        parts.push(part)
      }
      return `[${parts.join(',')}]`
    }
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return undefined
    const parts: string[] = []
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key]
      if (item === undefined) continue
      const part = encode(item, seen)
      if (part === undefined) return undefined
      parts.push(`${JSON.stringify(key)}:${part}`)
    }
    return `{${parts.join(',')}}`
  } finally {
    seen.delete(value)
  }
}
