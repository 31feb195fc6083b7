import { Buffer } from 'node:buffer'
import { type Copier, compileCopier, copyPlain, NOT_PLAIN, type Plan, planOf } from './copy-plan.js'
import { decodeCounter, encodeCounter, SERIALIZED_TAG } from './counter.js'
import { InvalidArgumentError, SerializationError } from './errors.js'
import type { Serializer } from './serializer.js'

/**
 * First byte of a value stored with metadata: `ENVELOPE_TAG`, a format version byte, a flags
 * byte, one float64 (big-endian, ms since the epoch) per flag set in bit order, then the
 * serialized value. Like `SERIALIZED_TAG` it never starts a decimal counter.
 */
export const ENVELOPE_TAG = 0xc2
/** The envelope format this version of core writes (and the newest it reads). */
export const ENVELOPE_VERSION = 1

const HAS_EXPIRES_AT = 1
const HAS_FRESH_UNTIL = 2

/**
 * Metadata an entry can carry besides its value, for layers above the gateway. Times are
 * milliseconds since the epoch (`Date.now()`); a schema never sees them.
 */
export interface EntryMeta {
  /** Logical expiry: past it the value is stale (kept physically longer for grace). */
  readonly expiresAt?: number
  /** Stale-while-revalidate: until then the value is fresh; after it, serve and refresh. */
  readonly freshUntil?: number
}

/** A decoded stored entry: the value and its metadata (`undefined` when it had none). */
export interface DecodedEntry {
  readonly value: unknown
  readonly meta: EntryMeta | undefined
}

// Decoded values of recently read keys: when a key's stored bytes are the same as last time,
// the value is copied (or, from a `frozen` serializer, shared) instead of decoded again.
const MEMO_KEYS = 256
const MEMO_MAX_BYTES = 4096
// A remembered value is copied along its plan by `copyPlain` at first, and by a copier compiled
// for its shape from its COMPILE_AFTER-th copy on: compiling a shape not seen before costs about
// as much as 30-100 generic copies (callgrind), so only keys read that often pay for it.
const COMPILE_AFTER = 64
// What a memo can give back: a copy, the value itself, or nothing (decode again).
const COPY = 1
const SHARE = 2
const NEVER = 3

interface Memo {
  // A private copy of the stored bytes the value was decoded from.
  readonly bytes: Uint8Array
  readonly reuse: number
  // Never handed out when `reuse` is COPY: each read gets a copy of it, made along `plan`.
  readonly value: unknown
  readonly plan: Plan | undefined
  copier: Copier | undefined
  copies: number
}

const remember = (bytes: Uint8Array, reuse: number, value: unknown, plan?: Plan): Memo => ({
  bytes,
  reuse,
  value,
  plan,
  copier: undefined,
  copies: 0,
})

// A key read once: remembered without its bytes, so keys read only once cost no copy.
const SEEN = remember(new Uint8Array(0), NEVER, undefined)

// A fresh copy of a remembered value.
function copyOut(memo: Memo): unknown {
  if (++memo.copies === COMPILE_AFTER) memo.copier = compileCopier(memo.plan!)
  return copyPlain(memo.value, memo.plan!)
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.compare(a, b) === 0

// Raw stores keep values as they are; an entry with metadata is kept as this object.
/** What a raw `ValueCodec` decodes from a stored value (one function, for `Store#getSettled`). */
export function rawValue(stored: unknown): unknown {
  return stored instanceof RawEnvelope ? stored.value : stored
}

class RawEnvelope {
  constructor(
    readonly value: unknown,
    readonly meta: EntryMeta,
  ) {}
}

/**
 * The one on-store encoding every cellar layer uses (the gateway, the facade, the generational
 * resolver). Safe integers (but not `-0`) are canonical decimal ASCII so native counters stay
 * native; other values are `SERIALIZED_TAG` + the serializer's bytes, or an envelope with
 * metadata. On a raw store values are kept as they are.
 */
export class ValueCodec {
  readonly serializer: Serializer
  readonly raw: boolean
  readonly #memo = new Map<string, Memo>()
  readonly #frozen: boolean

  constructor(serializer: Serializer, raw: boolean) {
    this.serializer = serializer
    this.raw = raw
    this.#frozen = serializer.frozen === true
  }

  /** The stored form of `value` (with `meta`, if given); throws `E_SERIALIZATION`. */
  encode(key: string, value: unknown, meta?: EntryMeta): unknown {
    if (value === undefined) {
      throw new InvalidArgumentError(
        `[cellar] cannot cache undefined for key "${key}" (it reads back as a miss); use null`,
        { key },
      )
    }
    if (meta !== undefined) return this.#envelope(key, value, meta)
    if (this.raw) return value
    if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) {
      return encodeCounter(value)
    }
    const serializer = this.serializer
    try {
      if (serializer.encodeTagged !== undefined) {
        return serializer.encodeTagged(SERIALIZED_TAG, value)
      }
      const payload = serializer.encode(value)
      const tagged = new Uint8Array(payload.length + 1)
      tagged[0] = SERIALIZED_TAG
      tagged.set(payload, 1)
      return tagged
    } catch (cause) {
      throw this.#encodeError(key, cause)
    }
  }

  /**
   * The value of a stored entry, without its metadata. Throws `E_SERIALIZATION` for bytes that
   * are neither a payload, an envelope nor a counter.
   */
  decode(key: string, stored: unknown): unknown {
    if (this.raw) return stored instanceof RawEnvelope ? stored.value : stored
    return this.#decodeBytes(key, stored as Uint8Array)
  }

  // Apart from decode, so that a raw read (one instanceof test) is small enough to inline into
  // the gateway's read (callgrind: see benchmarks/memory's README, issue 18 sixth pass).
  #decodeBytes(key: string, bytes: Uint8Array): unknown {
    const tag = bytes[0]
    if (tag === SERIALIZED_TAG) {
      if (bytes.length > MEMO_MAX_BYTES) return this.#deserialize(key, bytes, 1)
      const memo = this.#memo.get(key)
      if (memo !== undefined && memo !== SEEN && sameBytes(memo.bytes, bytes)) {
        if (memo.reuse === COPY) {
          const copier = memo.copier
          return copier === undefined ? copyOut(memo) : copier(memo.value)
        }
        if (memo.reuse === SHARE) return memo.value
        return this.#deserialize(key, bytes, 1)
      }
      const value = this.#deserialize(key, bytes, 1)
      const memos = this.#memo
      if (memo !== undefined) {
        memos.set(key, this.#keep(bytes, value))
      } else {
        // Full: start over (cheaper per read than evicting one by one); hot keys come back.
        if (memos.size >= MEMO_KEYS) memos.clear()
        memos.set(key, SEEN)
      }
      return value
    }
    if (tag === ENVELOPE_TAG) return this.decodeEntry(key, bytes).value
    const counter = decodeCounter(bytes)
    if (counter === undefined) {
      throw new SerializationError(
        `[cellar] value for key "${key}" is neither a tagged payload nor a counter`,
        { key },
      )
    }
    return counter
  }

  /** The value of a stored entry together with its metadata. */
  decodeEntry(key: string, stored: unknown): DecodedEntry {
    if (this.raw) {
      return stored instanceof RawEnvelope
        ? { value: stored.value, meta: stored.meta }
        : { value: stored, meta: undefined }
    }
    const bytes = stored as Uint8Array
    if (bytes[0] !== ENVELOPE_TAG) return { value: this.decode(key, bytes), meta: undefined }
    if (bytes.length < 3 || bytes[1]! > ENVELOPE_VERSION) {
      throw new SerializationError(
        `[cellar] value for key "${key}" has an envelope this version cannot read (format ${bytes[1]})`,
        { key },
      )
    }
    const flags = bytes[2]!
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let offset = 3
    const meta: { expiresAt?: number; freshUntil?: number } = {}
    try {
      if (flags & HAS_EXPIRES_AT) {
        meta.expiresAt = view.getFloat64(offset)
        offset += 8
      }
      if (flags & HAS_FRESH_UNTIL) {
        meta.freshUntil = view.getFloat64(offset)
        offset += 8
      }
    } catch (cause) {
      throw new SerializationError(`[cellar] envelope of key "${key}" is truncated`, {
        key,
        cause,
      })
    }
    return { value: this.#deserialize(key, bytes, offset), meta }
  }

  // A later read of a key whose bytes are new keeps them with the value.
  #keep(bytes: Uint8Array, value: unknown): Memo {
    const plan = planOf(value)
    // A primitive, or a value the serializer froze: every reader can have this very value.
    if (plan === null || (plan !== NOT_PLAIN && this.#frozen)) {
      return remember(bytes.slice(), SHARE, value)
    }
    if (plan === NOT_PLAIN) return remember(bytes.slice(), NEVER, undefined)
    return remember(bytes.slice(), COPY, copyPlain(value, plan), plan)
  }

  #envelope(key: string, value: unknown, meta: EntryMeta): unknown {
    for (const field of ['expiresAt', 'freshUntil'] as const) {
      const time = meta[field]
      if (time !== undefined && !Number.isFinite(time)) {
        throw new InvalidArgumentError(
          `[cellar] ${field} for key "${key}" must be a finite time in ms, got ${String(time)}`,
          { key },
        )
      }
    }
    if (this.raw) return new RawEnvelope(value, { ...meta })
    let payload: Uint8Array
    try {
      payload = this.serializer.encode(value)
    } catch (cause) {
      throw this.#encodeError(key, cause)
    }
    const flags =
      (meta.expiresAt === undefined ? 0 : HAS_EXPIRES_AT) |
      (meta.freshUntil === undefined ? 0 : HAS_FRESH_UNTIL)
    const header = 3 + 8 * ((flags & 1) + ((flags >> 1) & 1))
    const bytes = new Uint8Array(header + payload.length)
    const view = new DataView(bytes.buffer)
    bytes[0] = ENVELOPE_TAG
    bytes[1] = ENVELOPE_VERSION
    bytes[2] = flags
    let offset = 3
    if (meta.expiresAt !== undefined) {
      view.setFloat64(offset, meta.expiresAt)
      offset += 8
    }
    if (meta.freshUntil !== undefined) view.setFloat64(offset, meta.freshUntil)
    bytes.set(payload, header)
    return bytes
  }

  // The value serialized in `bytes` from `start` on.
  #deserialize(key: string, bytes: Uint8Array, start: number): unknown {
    const serializer = this.serializer
    try {
      return serializer.decodeFrom !== undefined
        ? serializer.decodeFrom(bytes, start)
        : serializer.decode(bytes.subarray(start))
    } catch (cause) {
      throw new SerializationError(
        `[cellar] ${this.serializer.name} cannot decode the value for key "${key}"`,
        { key, cause },
      )
    }
  }

  #encodeError(key: string, cause: unknown): SerializationError {
    return new SerializationError(
      `[cellar] ${this.serializer.name} cannot encode the value for key "${key}"`,
      { key, cause },
    )
  }
}
