import { describe, expect, test } from 'vitest'
import { JsonSerializer, MsgpackSerializer } from '../src/index.js'

describe('MsgpackSerializer', () => {
  const serializer = new MsgpackSerializer()
  const roundTrip = (value: unknown) => serializer.decode(serializer.encode(value))

  test('keeps what JSON loses: Date, undefined members, typed arrays, Set, non-finite numbers', () => {
    const value = {
      when: new Date(1_700_000_000_123),
      gone: undefined,
      list: [1, undefined, null],
      floats: new Float32Array([1.5, -2]),
      bytes: new Uint8Array([0, 255]),
      tags: new Set(['a', 'b']),
      special: [Number.NaN, Number.POSITIVE_INFINITY],
      big: 2 ** 60,
    }
    const back = roundTrip(value) as typeof value
    expect(back).toEqual(value)
    expect(back.floats).toBeInstanceOf(Float32Array)
    expect(back.tags).toBeInstanceOf(Set)
    expect('gone' in back).toBe(true)
  })

  test('plain objects are standard MessagePack maps', () => {
    // fixmap or map16 header, then the key as a fixstr: readable by any MessagePack decoder.
    const bytes = serializer.encode({ a: 1 })
    expect([0x81, 0xde]).toContain(bytes[0])
    expect(Buffer.from(bytes).includes(Buffer.from([0xa1, 0x61, 0x01]))).toBe(true)
  })

  test('encodeTagged is the tag byte followed by encode(value)', () => {
    const value = { id: 7, name: 'Zoë', nested: { ok: true } }
    const tagged = serializer.encodeTagged(0xc1, value)
    expect(tagged[0]).toBe(0xc1)
    expect(Buffer.from(tagged.subarray(1))).toEqual(Buffer.from(serializer.encode(value)))
  })

  test('encodings stay valid after later encodings (no shared buffer is handed out)', () => {
    const first = serializer.encodeTagged(1, { n: 'first' })
    const copy = Buffer.from(first)
    for (let i = 0; i < 2_000; i++) serializer.encodeTagged(1, { n: `later ${i}`.repeat(20) })
    expect(Buffer.from(first)).toEqual(copy)
  })

  test('decoded binary values are copies: changing one leaves the stored bytes alone', () => {
    const stored = serializer.encode({ bytes: Buffer.from([1, 2, 3]) })
    const first = serializer.decode(stored) as { bytes: Buffer }
    first.bytes[0] = 99
    expect((serializer.decode(stored) as { bytes: Buffer }).bytes[0]).toBe(1)
  })

  test('refuses malformed input: the reserved byte 0xC1, truncation, trailing bytes', () => {
    expect(() => serializer.decode(new Uint8Array([0xc1]))).toThrow(/0xC1/)
    expect(() => serializer.decode(new Uint8Array([0x92, 0x01]))).toThrow()
    expect(() => serializer.decode(new Uint8Array([0x01, 0x02]))).toThrow()
  })

  test('throws on functions and symbols, and encodes normally afterwards', () => {
    expect(() => serializer.encode({ run() {} })).toThrow(/function/)
    expect(() => serializer.encode(() => 1)).toThrow(/function/)
    expect(() => serializer.encode({ s: Symbol('x') })).toThrow(/symbol/)
    expect(roundTrip({ after: 'a throw' })).toEqual({ after: 'a throw' })
  })
})

describe('JsonSerializer', () => {
  test('round-trips JSON values and refuses what JSON cannot encode', () => {
    const serializer = new JsonSerializer()
    expect(serializer.decode(serializer.encode({ a: [1, 'x', null] }))).toEqual({
      a: [1, 'x', null],
    })
    expect(() => serializer.encode(() => 1)).toThrow(/JSON cannot encode/)
  })
})
