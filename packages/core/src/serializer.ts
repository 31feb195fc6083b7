import { C1, Packr, RESERVE_START_SPACE } from 'msgpackr'

/** Turns values into bytes and back. `decode(encode(v))` must equal `v` for supported values. */
export interface Serializer {
  /** A short name for errors, e.g. `'msgpack'`. */
  readonly name: string
  /** Encodes a value; may throw on unsupported values (functions, symbols). */
  encode(value: unknown): Uint8Array
  /** Decodes bytes produced by `encode`; may throw on malformed input. */
  decode(bytes: Uint8Array): unknown
  /**
   * Optional: `decode(bytes.subarray(start))` without making the view. The gateway reads payloads
   * behind a tag byte; a serializer that can start at an offset saves an allocation per read.
   */
  decodeFrom?(bytes: Uint8Array, start: number): unknown
  /**
   * Optional: true if `decode` returns values whose plain objects and arrays are deeply frozen.
   * The gateway then hands one decoded object to every read of the same stored bytes of a key,
   * instead of decoding (or copying) it per read.
   */
  readonly frozen?: boolean
  /**
   * Optional: the byte `tag` followed by `encode(value)`, in one buffer. The gateway prefixes
   * every payload with a tag; a serializer that can leave room for it saves a copy per write.
   */
  encodeTagged?(tag: number, value: unknown): Uint8Array
}

// msgpackr writes -0 as the integer 0; a top-level -0 is written as float64 -0 instead.
const NEGATIVE_ZERO = Uint8Array.of(0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0)

// Freezes the plain objects and arrays in a decoded value, deepest first.
function freezeDecoded(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== Array.prototype) return value
  for (const key of Object.keys(value)) freezeDecoded((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}

/**
 * MessagePack through msgpackr (the fastest JavaScript MessagePack codec we measured). Plain
 * objects are standard maps; `moreTypes` keeps typed arrays, `Set`, `Error` and `RegExp` intact
 * through msgpackr's extension types, and `undefined` inside objects and arrays reads back as
 * `undefined`, not `null`. A top-level `-0` reads back as `-0` (inside objects msgpackr keeps
 * only `0`). Functions and symbols throw. Decoded binary values are copies,
 * never views of the stored bytes.
 */
export class MsgpackSerializer implements Serializer {
  readonly name = 'msgpack'
  /** True when built with `{ frozen: true }`. */
  readonly frozen: boolean
  readonly #packr = new Packr({
    useRecords: false,
    moreTypes: true,
    copyBuffers: true,
    // msgpackr would silently write a function as `undefined`.
    writeFunction: () => {
      throw new TypeError('a function cannot be serialized')
    },
  })

  /**
   * `frozen: true` (default false): decoded plain objects and arrays come back deeply frozen (a
   * `Date`, `Map`, `Set` or binary value inside stays as decoded), and repeated reads of a key
   * whose stored bytes did not change share one decoded object instead of decoding a fresh one:
   * much cheaper hits, but a caller that changes a value must copy it first (writing to a frozen
   * object throws in strict mode).
   */
  constructor(options: { readonly frozen?: boolean } = {}) {
    this.frozen = options.frozen === true
  }

  encode(value: unknown): Uint8Array {
    if (Object.is(value, -0)) return NEGATIVE_ZERO.slice()
    return this.#packr.pack(value)
  }

  encodeTagged(tag: number, value: unknown): Uint8Array {
    if (Object.is(value, -0)) {
      const bytes = new Uint8Array(1 + NEGATIVE_ZERO.length)
      bytes[0] = tag
      bytes.set(NEGATIVE_ZERO, 1)
      return bytes
    }
    // msgpackr leaves one byte free in front of the encoding, inside the buffer it returns.
    const bytes = this.#packr.pack(value, RESERVE_START_SPACE | 1)
    bytes[0] = tag
    return bytes
  }

  decode(bytes: Uint8Array): unknown {
    return this.decodeFrom(bytes, 0)
  }

  decodeFrom(bytes: Uint8Array, start: number): unknown {
    // msgpackr reads from `start` on, and keeps its DataView on `bytes` for the next read.
    const value = this.#packr.unpack(bytes, { start })
    // msgpackr turns the reserved byte 0xC1 into a marker object instead of refusing it.
    if (value === C1) throw new TypeError('0xC1 is not a MessagePack value')
    return this.frozen ? freezeDecoded(value) : value
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
