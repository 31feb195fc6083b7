import { Decoder, decode, Encoder } from '@msgpack/msgpack'
import { Packr } from 'msgpackr'
import { PRODUCT } from './fixture.js'

/** The serializer alone on the benchmark's value: what byte-mode reads and writes pay on top. */
export function codecBenchmarks(): Array<readonly [string, () => unknown]> {
  const encoder = new Encoder({ ignoreUndefined: false })
  const decoder = new Decoder()
  const packr = new Packr({ useRecords: false })
  const bytes = encoder.encode(PRODUCT)
  const packed = packr.pack(PRODUCT)
  const json = JSON.stringify(PRODUCT)
  const textEncoder = new TextEncoder()
  const textDecoder = new TextDecoder()
  const jsonBytes = textEncoder.encode(json)
  return [
    [`decode ${bytes.length} B: @msgpack/msgpack Decoder (reused)`, () => decoder.decode(bytes)],
    [`decode ${bytes.length} B: @msgpack/msgpack decode() one-shot`, () => decode(bytes)],
    [`decode ${packed.length} B: msgpackr Packr.unpack`, () => packr.unpack(packed)],
    [`decode ${json.length} B: JSON.parse(string)`, () => JSON.parse(json)],
    [
      `decode ${json.length} B: JSON.parse(TextDecoder(bytes))`,
      () => JSON.parse(textDecoder.decode(jsonBytes)),
    ],
    [`encode: @msgpack/msgpack Encoder (reused)`, () => encoder.encode(PRODUCT)],
    [`encode: msgpackr Packr.pack`, () => packr.pack(PRODUCT)],
    [`encode: JSON.stringify`, () => JSON.stringify(PRODUCT)],
  ]
}
