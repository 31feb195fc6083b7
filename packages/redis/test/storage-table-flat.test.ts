import { MsgpackSerializer } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { msgpackRowCodec, type RowCodec, StorageRowCodec } from '../src/storage-table-codec.js'

// The same MessagePack codec without the mark msgpackRowCodec sets: rows stay maps (format 1).
const serializer = new MsgpackSerializer()
const plainCodec: RowCodec<unknown> = {
  name: 'msgpack',
  encode: (record) => serializer.encode(record),
  decode: (bytes) => serializer.decode(bytes),
  decodeFrom: (bytes, start) => serializer.decodeFrom(bytes, start),
}
const flat = () => new StorageRowCodec<unknown>(msgpackRowCodec(), 't', 1 << 20)
const maps = () => new StorageRowCodec<unknown>(plainCodec, 't', 1 << 20)

// Reads `bytes` as an index member does: behind a few bytes of something else.
const behind = (bytes: Buffer) => Buffer.concat([Buffer.from('7:1:abcde'), bytes])

const records: Array<[string, unknown]> = [
  ['the bench row', { id: 12, ts: '120', amount: 508, note: 'order 12' }],
  [
    'every fast-path value',
    {
      nil: null,
      yes: true,
      no: false,
      small: 5,
      negative: -7,
      byte: 200,
      short: 60_000,
      word: 4_000_000_000,
      int8: -100,
      int16: -30_000,
      int32: -2_000_000_000,
      float: 1.5,
      big: 2 ** 53,
      empty: '',
      fix: 'x'.repeat(31),
      str8: 'y'.repeat(255),
    },
  ],
  [
    'values msgpackr reads',
    {
      str16: 'z'.repeat(70_000),
      unicode: 'héllo ☃ 𝄞',
      lone: '\ud800',
      when: new Date(1_700_000_000_000),
      nested: { a: [1, { b: 2 }], m: new Map([[1, 'one']]) },
      missing: undefined,
      bytes: Uint8Array.of(1, 2, 3),
      negativeZero: -0,
      huge: 2 ** 64,
    },
  ],
  ['odd keys', { 'k:1': 1, '': 2, '10': 3, '2': 4, constructor: 'c', toString: 't', 'é{}': 5 }],
  ['no keys', {}],
  ['more than 15 keys', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, i]))],
]

describe('StorageRowCodec with msgpackRowCodec: plain objects in the flat layout', () => {
  test.each(records)('%s reads back as the MessagePack map layout reads it', (_, record) => {
    const codec = flat()
    const stored = codec.encode('pk', record)
    expect(stored[0]).toBe(0xc8)
    const viaMap = maps().decode('pk', maps().encode('pk', record))
    for (const decoded of [codec.decode('pk', stored), codec.decodeAt(behind(stored), 9, 'pk')]) {
      expect(decoded).toStrictEqual(viaMap)
      expect(Object.keys(decoded as object)).toEqual(Object.keys(viaMap as object))
    }
  })

  test('the bench row is stored no larger than its map and shapes are reused across rows', () => {
    const codec = flat()
    const row = (id: number) => ({
      id,
      ts: String(id * 10),
      amount: id % 1000,
      note: `order ${id}`,
    })
    expect(codec.encode('1', row(1)).length).toBeLessThanOrEqual(maps().encode('1', row(1)).length)
    const reader = flat()
    for (let id = 0; id < 50; id++) {
      expect(reader.decode(String(id), codec.encode(String(id), row(id)))).toStrictEqual(row(id))
    }
    // Shapes alternating and more of them than the reader keeps.
    for (let id = 0; id < 40; id++) {
      const record = { [`k${id % 20}`]: id, id }
      expect(reader.decode('x', codec.encode('x', record))).toStrictEqual(record)
    }
  })

  test('records that are not plain objects, or have a __proto__ key, keep the map layout', () => {
    const codec = flat()
    const proto = JSON.parse('{"__proto__": 1, "a": 2}') as unknown
    const bare = Object.assign(Object.create(null) as object, { a: 1 })
    class Point {
      x = 1
    }
    for (const record of [proto, bare, [1, 2], new Map([['a', 1]]), 'text', 7, null, new Point()]) {
      const stored = codec.encode('pk', record)
      expect(stored[0]).toBe(0xc7)
      expect(codec.decode('pk', stored)).toStrictEqual(
        maps().decode('pk', maps().encode('pk', record)),
      )
    }
  })

  test('a table with another codec refuses flat rows as corrupt', () => {
    const stored = flat().encode('pk', { a: 1 })
    expect(() => maps().decode('pk', stored)).toThrow(
      expect.objectContaining({ code: 'E_SERIALIZATION', key: 'pk' }),
    )
  })

  test('a corrupt flat row is E_SERIALIZATION naming its key', () => {
    const codec = flat()
    const good = codec.encode('pk', { id: 1, name: 'ab', n: 300 })
    const shapeEnd = 2 + (good[1] as number)
    const edit = (change: (bytes: Buffer) => Buffer) => change(Buffer.from(good))
    const corrupt = [
      good.subarray(0, 2),
      good.subarray(0, shapeEnd),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.of(0)]),
      edit((b) => {
        b[1] = 0x7f // the shape runs past the row
        return b
      }),
      edit((b) => {
        b[2] = 0xc1 // the shape is not MessagePack
        return b
      }),
      edit((b) => {
        b[shapeEnd] = 0x92 // two values for three keys
        return b
      }),
      Buffer.of(0xc8, 5, 0x92, 0xa1, 0x61, 0xa1, 0x61, 0x92, 1, 2), // keys a, a
      Buffer.concat([
        Buffer.of(0xc8, 11, 0x91, 0xa9),
        Buffer.from('__proto__'),
        Buffer.of(0x91, 1),
      ]),
      Buffer.of(0xc8, 3, 0x91, 0xa1, 0x61, 0xc1), // 0xC1 is no MessagePack value
      Buffer.of(0xc8, 2, 0x91, 0x01, 0x91, 1), // a key that is not a string
    ]
    for (const bytes of corrupt) {
      for (const read of [
        () => codec.decode('pk', bytes),
        () => codec.decodeAt(behind(bytes), 9, () => 'pk'),
      ]) {
        expect(read).toThrow(expect.objectContaining({ code: 'E_SERIALIZATION', key: 'pk' }))
      }
    }
  })

  test('a value the codec refuses is E_SERIALIZATION; an oversized row E_VALUE_TOO_LARGE', () => {
    expect(() => flat().encode('pk', { f: () => 1 })).toThrow(
      expect.objectContaining({ code: 'E_SERIALIZATION', key: 'pk' }),
    )
    const small = new StorageRowCodec<unknown>(msgpackRowCodec(), 't', 20)
    expect(() => small.encode('pk', { note: 'x'.repeat(20) })).toThrow(
      expect.objectContaining({ code: 'E_VALUE_TOO_LARGE', key: 'pk' }),
    )
  })
})
