import { describe, expect, test } from 'vitest'
import { MsgpackSerializer, ValueCodec } from '../src/index.js'

const user = () => ({
  id: 1,
  name: 'Ada',
  roles: ['admin', { scope: 'all', until: undefined }],
  address: { city: 'London' },
  score: -0.5,
})

// Each read of a store hands the gateway fresh bytes: a copy of what was stored.
const read = (stored: Uint8Array) => stored.slice()

describe('ValueCodec: repeated reads of unchanged bytes', () => {
  test('every read gets a fresh value; changing one never reaches the next read', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const stored = codec.encode('k', user()) as Uint8Array
    const values = Array.from({ length: 5 }, () => codec.decode('k', read(stored)))
    for (const value of values) expect(value).toStrictEqual(user())
    expect(new Set(values).size).toBe(5)
    const [a, b] = values as Array<ReturnType<typeof user>>
    expect(a!.roles).not.toBe(b!.roles)
    expect(a!.address).not.toBe(b!.address)
    ;(values[4] as ReturnType<typeof user>).roles.push('mutated')
    ;(values[4] as ReturnType<typeof user>).address.city = 'Paris'
    const next = codec.decode('k', read(stored)) as ReturnType<typeof user>
    expect(next).toStrictEqual(user())
    expect(Object.isFrozen(next)).toBe(false)
    // `undefined` inside an object is kept as an own property, as decoding keeps it.
    expect(Object.keys((next.roles[1] as object) ?? {})).toEqual(['scope', 'until'])
  })

  test('new bytes under the same key are decoded, not served from the last value', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    for (let i = 0; i < 3; i++) codec.decode('k', codec.encode('k', { v: 1 }))
    expect(codec.decode('k', codec.encode('k', { v: 2 }))).toEqual({ v: 2 })
    expect(codec.decode('k', codec.encode('k', { v: 2 }))).toEqual({ v: 2 })
    // Another key with the bytes of the first one's old value.
    expect(codec.decode('j', codec.encode('j', { v: 1 }))).toEqual({ v: 1 })
    expect(codec.decode('k', codec.encode('k', 'text'))).toBe('text')
  })

  test('values with dates, binary data and sets are decoded afresh on every read', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const value = {
      at: new Date(0),
      bytes: Uint8Array.of(1, 2),
      tags: new Set(['a']),
    }
    const stored = codec.encode('k', value) as Uint8Array
    const reads = Array.from({ length: 4 }, () => codec.decode('k', read(stored)) as typeof value)
    for (const got of reads) expect(got).toEqual(value)
    reads[2]!.at.setTime(5)
    reads[2]!.bytes[0] = 9
    reads[2]!.tags.add('b')
    expect(codec.decode('k', read(stored))).toEqual(value)
    expect(reads[3]!.at).not.toBe(reads[2]!.at)
  })

  test('a "__proto__" key and top-level -0 read back as decoding gives them', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const stored = codec.encode('k', JSON.parse('{"__proto__": {"x": 1}, "a": 2}')) as Uint8Array
    const first = codec.decode('k', read(stored))
    for (let i = 0; i < 3; i++) expect(codec.decode('k', read(stored))).toEqual(first)
    expect(Object.getPrototypeOf(codec.decode('k', read(stored)))).toBe(Object.prototype)
    const zero = codec.encode('z', -0) as Uint8Array
    for (let i = 0; i < 3; i++) expect(Object.is(codec.decode('z', read(zero)), -0)).toBe(true)
  })

  test('many keys: every read stays correct past the memo bound', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const stored = Array.from({ length: 600 }, (_, i) => codec.encode(`k${i}`, { i }) as Uint8Array)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < stored.length; i++) {
        expect(codec.decode(`k${i}`, read(stored[i]!))).toEqual({ i })
      }
    }
  })

  test('truncated or malformed payloads still throw E_SERIALIZATION on every read', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const stored = codec.encode('k', { name: 'Ada Lovelace' }) as Uint8Array
    const cut = stored.slice(0, stored.length - 3)
    for (let i = 0; i < 3; i++) {
      expect(() => codec.decode('k', read(cut))).toThrow(
        expect.objectContaining({ code: 'E_SERIALIZATION' }),
      )
    }
    const envelope = codec.encode('e', 'v', { expiresAt: 1 }) as Uint8Array
    expect(() => codec.decodeEntry('e', envelope.slice(0, 11))).toThrow(
      expect.objectContaining({ code: 'E_SERIALIZATION' }),
    )
    expect(() => codec.decode('t', Uint8Array.of(0xc1))).toThrow(
      expect.objectContaining({ code: 'E_SERIALIZATION' }),
    )
  })
})

describe('MsgpackSerializer({ frozen: true })', () => {
  test('values come back deeply frozen, and unchanged bytes share one object', () => {
    const codec = new ValueCodec(new MsgpackSerializer({ frozen: true }), false)
    const stored = codec.encode('k', user()) as Uint8Array
    const first = codec.decode('k', read(stored)) as ReturnType<typeof user>
    expect(first).toStrictEqual(user())
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first.roles)).toBe(true)
    expect(Object.isFrozen(first.roles[1])).toBe(true)
    expect(Object.isFrozen(first.address)).toBe(true)
    expect(() => {
      first.address.city = 'Paris'
    }).toThrow(TypeError)
    // From the second read of unchanged bytes on, every read gets one shared object.
    const second = codec.decode('k', read(stored))
    expect(second).toStrictEqual(first)
    for (let i = 0; i < 3; i++) expect(codec.decode('k', read(stored))).toBe(second)
    // New bytes: a new object.
    const next = codec.decode('k', codec.encode('k', { v: 2 }))
    expect(next).toEqual({ v: 2 })
    expect(Object.isFrozen(next)).toBe(true)
  })

  test('a value holding a date or binary data is decoded afresh; its plain parts are frozen', () => {
    const codec = new ValueCodec(new MsgpackSerializer({ frozen: true }), false)
    const stored = codec.encode('k', { at: new Date(0), list: [1] }) as Uint8Array
    const a = codec.decode('k', read(stored)) as { at: Date; list: number[] }
    const b = codec.decode('k', read(stored)) as { at: Date; list: number[] }
    expect(a).not.toBe(b)
    expect(Object.isFrozen(a)).toBe(true)
    expect(Object.isFrozen(a.list)).toBe(true)
    a.at.setTime(5)
    expect(b.at.getTime()).toBe(0)
    // Envelopes (entries with metadata) come back frozen too.
    const entry = codec.decodeEntry('e', codec.encode('e', { n: [1] }, { expiresAt: 9 }))
    expect(Object.isFrozen(entry.value)).toBe(true)
  })
})
