import { MsgpackSerializer } from '@cellar/core'

// A plain-object row in the flat layout: its keys as a MessagePack array (the shape), then its
// values as one MessagePack array in key order. Decoding a MessagePack map re-reads every key and
// adds the properties one by one; here a shape seen before is recognised by comparing its bytes
// and the record is built by one object literal per shape, and the common values (null,
// booleans, numbers, ASCII strings) are read without msgpackr's per-call setup. Each row carries
// its own shape, so no state is shared between processes or kept in Redis.

// Shapes kept per table for decoding; a table's rows rarely have more than a few.
const SHAPE_CACHE = 16
// Largest shape (encoded bytes) written; wider records keep the MessagePack map layout.
const MAX_SHAPE_BYTES = 0x7fff

/** A key list and what builds a record of it from its values. */
class Shape {
  readonly keys: readonly string[]
  readonly bytes: Buffer
  readonly build: (values: unknown[]) => unknown

  constructor(keys: readonly string[], bytes: Buffer) {
    this.keys = keys
    this.bytes = bytes
    this.build = builder(keys)
  }
}

// One object literal per shape gives every record of the shape the same hidden class at once.
function builder(keys: readonly string[]): (values: unknown[]) => unknown {
  try {
    const fields = keys.map((key, i) => `${JSON.stringify(key)}: v[${i}]`).join(', ')
    return new Function('v', `return { ${fields} }`) as (values: unknown[]) => unknown
  } catch {
    // No code generation here (e.g. a policy forbids it): assign the keys one by one.
    return (values) => {
      const record: Record<string, unknown> = {}
      keys.forEach((key, i) => {
        record[key] = values[i]
      })
      return record
    }
  }
}

/** Encodes and decodes rows in the flat layout; `encode` declines records it cannot lay out so. */
export class FlatRows {
  readonly #serializer = new MsgpackSerializer()
  // Most recently used first.
  #shapes: Shape[] = []
  readonly #written = new Map<string, Shape>()

  /**
   * The flat body of `record` (the shape's length in one byte below 128, else two with the high
   * bit set; the shape; the values), or undefined when it is
   * not a plain object, has a `__proto__` key or too wide a shape.
   */
  encode(record: unknown): Buffer | undefined {
    if (typeof record !== 'object' || record === null) return undefined
    if (Object.getPrototypeOf(record) !== Object.prototype) return undefined
    const keys = Object.keys(record)
    const shape = this.#shapeOf(keys)
    if (shape === undefined) return undefined
    const values = keys.map((key) => (record as Record<string, unknown>)[key])
    const body = this.#serializer.encode(values)
    const size = shape.bytes.length
    const head = size < 0x80 ? 1 : 2
    const out = Buffer.allocUnsafe(head + size + body.length)
    if (head === 1) out[0] = size
    else {
      out[0] = 0x80 | (size >> 8)
      out[1] = size & 0xff
    }
    shape.bytes.copy(out, head)
    out.set(body, head + size)
    return out
  }

  /** The record whose flat body starts at `start` and runs to the end of `bytes`; throws if malformed. */
  decodeFrom(bytes: Buffer, start: number): unknown {
    const end = bytes.length
    if (start + 2 > end) throw new TypeError('the row is truncated')
    const first = bytes[start] as number
    const shapeStart = first < 0x80 ? start + 1 : start + 2
    const valuesStart =
      shapeStart + (first < 0x80 ? first : ((first & 0x7f) << 8) | (bytes[start + 1] as number))
    if (valuesStart >= end) throw new TypeError('the row is truncated')
    const shape = this.#shapeAt(bytes, shapeStart, valuesStart)
    const count = shape.keys.length
    const values = readValues(bytes, valuesStart, count) ?? this.#slowValues(bytes, valuesStart)
    if (values.length !== count) {
      throw new TypeError(`the row has ${values.length} values for ${count} keys`)
    }
    return shape.build(values)
  }

  #slowValues(bytes: Buffer, start: number): unknown[] {
    const values = this.#serializer.decodeFrom(bytes, start)
    if (!Array.isArray(values)) throw new TypeError('the row values are not an array')
    return values
  }

  #parseShape(bytes: Buffer): Shape {
    const keys = this.#serializer.decode(bytes)
    if (
      !Array.isArray(keys) ||
      !keys.every((key) => typeof key === 'string' && key !== '__proto__') ||
      new Set(keys).size !== keys.length
    ) {
      throw new TypeError('the row shape is not a list of distinct keys')
    }
    return new Shape(keys as string[], bytes)
  }

  #shapeOf(keys: readonly string[]): Shape | undefined {
    const text = JSON.stringify(keys)
    let shape = this.#written.get(text)
    if (shape !== undefined) return shape
    if (keys.includes('__proto__')) return undefined
    const bytes = Buffer.from(this.#serializer.encode(keys))
    if (bytes.length > MAX_SHAPE_BYTES) return undefined
    shape = new Shape(keys, bytes)
    if (this.#written.size >= SHAPE_CACHE) this.#written.clear()
    this.#written.set(text, shape)
    return shape
  }

  #shapeAt(bytes: Buffer, start: number, end: number): Shape {
    const shapes = this.#shapes
    for (let s = 0; s < shapes.length; s++) {
      const shape = shapes[s] as Shape
      if (sameBytes(shape.bytes, bytes, start, end)) {
        if (s > 0) {
          shapes.splice(s, 1)
          shapes.unshift(shape)
        }
        return shape
      }
    }
    const shape = this.#parseShape(Buffer.from(bytes.subarray(start, end)))
    shapes.unshift(shape)
    if (shapes.length > SHAPE_CACHE) shapes.pop()
    return shape
  }
}

function sameBytes(known: Buffer, bytes: Buffer, start: number, end: number): boolean {
  if (known.length !== end - start) return false
  for (let i = 0; i < known.length; i++) if (known[i] !== bytes[start + i]) return false
  return true
}

/**
 * The MessagePack array of `count` values at `start` (ending at the end of `bytes`) when every
 * value is null, a boolean, a number msgpackr writes (fixints, 8/16/32-bit integers, float64) or
 * an ASCII string; undefined for anything else, which msgpackr then decodes. Throws if truncated.
 */
function readValues(bytes: Buffer, start: number, count: number): unknown[] | undefined {
  const end = bytes.length
  let p = start
  const head = bytes[p] as number
  let length: number
  if ((head & 0xf0) === 0x90) {
    length = head & 0x0f
    p += 1
  } else if (head === 0xdc && p + 3 <= end) {
    length = ((bytes[p + 1] as number) << 8) | (bytes[p + 2] as number)
    p += 3
  } else return undefined
  if (length !== count) return undefined
  const values: unknown[] = new Array(length)
  for (let i = 0; i < length; i++) {
    if (p >= end) throw new TypeError('the row is truncated')
    const b = bytes[p] as number
    let value: unknown
    let size: number
    if (b < 0x80) {
      value = b
      size = 1
    } else if (b >= 0xe0) {
      value = b - 0x100
      size = 1
    } else if (b >= 0xa0 && b < 0xc0) {
      size = 1 + (b & 0x1f)
      value = ascii(bytes, p + 1, p + size)
    } else {
      switch (b) {
        case 0xc0:
          value = null
          size = 1
          break
        case 0xc2:
          value = false
          size = 1
          break
        case 0xc3:
          value = true
          size = 1
          break
        case 0xcc:
          value = bytes[p + 1]
          size = 2
          break
        case 0xcd:
          value = ((bytes[p + 1] as number) << 8) | (bytes[p + 2] as number)
          size = 3
          break
        case 0xce:
          value = p + 5 <= end ? bytes.readUInt32BE(p + 1) : undefined
          size = 5
          break
        case 0xd0:
          value = p + 2 <= end ? bytes.readInt8(p + 1) : undefined
          size = 2
          break
        case 0xd1:
          value = p + 3 <= end ? bytes.readInt16BE(p + 1) : undefined
          size = 3
          break
        case 0xd2:
          value = p + 5 <= end ? bytes.readInt32BE(p + 1) : undefined
          size = 5
          break
        case 0xcb:
          value = p + 9 <= end ? bytes.readDoubleBE(p + 1) : undefined
          size = 9
          break
        case 0xd9:
          size = 2 + ((bytes[p + 1] as number) | 0)
          value = ascii(bytes, p + 2, p + size)
          break
        default:
          return undefined
      }
    }
    p += size
    if (p > end) throw new TypeError('the row is truncated')
    // An ASCII read that met a wider character leaves the row to msgpackr.
    if (value === undefined) return undefined
    values[i] = value
  }
  if (p !== end) throw new TypeError('the row has bytes after its values')
  return values
}

// Character codes of short strings, one array per length (String.fromCharCode.apply takes them
// without a call into C++, which Buffer#toString makes: measured about twice as fast per string).
const SHORT = 16
const codes = Array.from({ length: SHORT + 1 }, (_, n) => new Array<number>(n).fill(0))

// The string of bytes [start, end) when they are all ASCII (so UTF-8 and Latin-1 agree), else
// undefined; undefined too when the range runs past the buffer (the caller reports that).
function ascii(bytes: Buffer, start: number, end: number): string | undefined {
  if (end > bytes.length) return undefined
  const length = end - start
  if (length <= SHORT) {
    const chars = codes[length] as number[]
    for (let i = 0; i < length; i++) {
      const c = bytes[start + i] as number
      if (c > 0x7f) return undefined
      chars[i] = c
    }
    return String.fromCharCode.apply(null, chars)
  }
  for (let i = start; i < end; i++) if ((bytes[i] as number) > 0x7f) return undefined
  return bytes.toString('latin1', start, end)
}
