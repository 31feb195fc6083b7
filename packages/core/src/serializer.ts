import { Decoder, Encoder } from '@msgpack/msgpack'

/** Turns values into bytes and back. `decode(encode(v))` must equal `v` for supported values. */
export interface Serializer {
  /** A short name for errors, e.g. `'msgpack'`. */
  readonly name: string
  /** Encodes a value; may throw on unsupported values (functions, symbols). */
  encode(value: unknown): Uint8Array
  /** Decodes bytes produced by `encode`; may throw on malformed input. */
  decode(bytes: Uint8Array): unknown
  /**
   * Optional `encode` into a buffer the serializer reuses: the bytes are valid only until its
   * next call, so the caller must copy them at once (the gateway does, behind its tag byte).
   */
  encodeShared?(value: unknown): Uint8Array
}

/** MessagePack through `@msgpack/msgpack`, reusing one encoder and decoder (the costly part). */
export class MsgpackSerializer implements Serializer {
  readonly name = 'msgpack'
  readonly #encoder = new Encoder({ ignoreUndefined: false })
  readonly #decoder = new Decoder()

  encode(value: unknown): Uint8Array {
    return this.#encoder.encode(value)
  }

  encodeShared(value: unknown): Uint8Array {
    return this.#encoder.encodeSharedRef(value)
  }

  decode(bytes: Uint8Array): unknown {
    return this.#decoder.decode(bytes)
  }
}

/** JSON as UTF-8; `Date` comes back as a string, `undefined` in objects is dropped. */
export class JsonSerializer implements Serializer {
  readonly name = 'json'
  readonly #encoder = new TextEncoder()
  readonly #decoder = new TextDecoder('utf-8', { fatal: true })

  encode(value: unknown): Uint8Array {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`JSON cannot encode a ${typeof value}`)
    return this.#encoder.encode(text)
  }

  decode(bytes: Uint8Array): unknown {
    return JSON.parse(this.#decoder.decode(bytes))
  }
}
