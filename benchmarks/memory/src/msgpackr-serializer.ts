import type { Serializer } from '@cellar/core'
import { Packr } from 'msgpackr'

/**
 * MessagePack through msgpackr, as a candidate opt-in serializer. `useRecords: false` keeps the
 * output plain MessagePack (maps, not msgpackr records), readable by any decoder.
 */
export class MsgpackrSerializer implements Serializer {
  readonly name = 'msgpackr'
  readonly #packr = new Packr({ useRecords: false })

  encode(value: unknown): Uint8Array {
    return this.#packr.pack(value)
  }

  decode(bytes: Uint8Array): unknown {
    return this.#packr.unpack(bytes)
  }
}
