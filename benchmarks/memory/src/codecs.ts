import { MsgpackSerializer, SERIALIZED_TAG } from '@cellar/core'
import { Decoder, decode, Encoder, encode } from '@msgpack/msgpack'
import { do_not_optimize } from 'mitata'
import { Packr } from 'msgpackr'
import { PRODUCT } from './fixture.js'

/** The serializer and byte copies alone on the benchmark's value: what byte mode pays on top. */
export function codecBenchmarks(): Array<readonly [string, () => unknown]> {
  const encoder = new Encoder({ ignoreUndefined: false })
  const decoder = new Decoder()
  const packr = new Packr({ useRecords: false })
  const core = new MsgpackSerializer()
  const bytes = encoder.encode(PRODUCT)
  const packed = packr.pack(PRODUCT)
  const json = JSON.stringify(PRODUCT)
  const textEncoder = new TextEncoder()
  const textDecoder = new TextDecoder()
  const jsonBytes = textEncoder.encode(json)
  const stored = new Uint8Array(bytes.length + 1)
  return [
    [
      `copy ${stored.length} B: Uint8Array#slice() (MemoryStore byte-mode read)`,
      () => do_not_optimize(stored.slice()),
    ],
    [`copy ${stored.length} B: Buffer.from (pooled)`, () => do_not_optimize(Buffer.from(stored))],
    [
      `view ${stored.length} B: subarray(1) (gateway tag strip)`,
      () => do_not_optimize(stored.subarray(1)),
    ],
    [
      `decode ${bytes.length} B: @msgpack/msgpack Decoder (reused)`,
      () => do_not_optimize(decoder.decode(bytes)),
    ],
    [
      `decode ${bytes.length} B: @msgpack/msgpack decode() one-shot`,
      () => do_not_optimize(decode(bytes)),
    ],
    [
      `decode ${packed.length} B: msgpackr Packr.unpack`,
      () => do_not_optimize(packr.unpack(packed)),
    ],
    [
      `decode ${packed.length} B: core MsgpackSerializer (msgpackr; what the gateway does)`,
      () => do_not_optimize(core.decode(packed)),
    ],
    [`decode ${json.length} B: JSON.parse(string)`, () => do_not_optimize(JSON.parse(json))],
    [
      `decode ${json.length} B: JSON.parse(TextDecoder(bytes))`,
      () => do_not_optimize(JSON.parse(textDecoder.decode(jsonBytes))),
    ],
    [`encode: @msgpack/msgpack Encoder (reused)`, () => do_not_optimize(encoder.encode(PRODUCT))],
    [`encode: @msgpack/msgpack encode() one-shot`, () => do_not_optimize(encode(PRODUCT))],
    [`encode: msgpackr Packr.pack`, () => do_not_optimize(packr.pack(PRODUCT))],
    [
      `encode: core MsgpackSerializer.encodeTagged (msgpackr; what the gateway does)`,
      () => do_not_optimize(core.encodeTagged(SERIALIZED_TAG, PRODUCT)),
    ],
    [`encode: JSON.stringify`, () => do_not_optimize(JSON.stringify(PRODUCT))],
  ]
}
