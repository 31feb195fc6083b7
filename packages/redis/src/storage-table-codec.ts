import {
  InvalidArgumentError,
  MsgpackSerializer,
  type RecordScorer,
  SerializationError,
} from '@cellar/core'
import { FlatRows } from './storage-table-flat.js'
import type { RedisClient } from './types.js'

/** Turns a table row into bytes and back; `decode(encode(r))` must equal `r`. */
export interface RowCodec<R> {
  /** A short name for error messages, e.g. `'msgpack'`. */
  readonly name: string
  /** Encodes a record; may throw on values it cannot represent. */
  encode(record: R): Uint8Array
  /** Decodes bytes `encode` produced; may throw on malformed input. */
  decode(bytes: Uint8Array): R
  /**
   * Optional: `decode(bytes.subarray(start))` without making the view (a stored row starts with a
   * format byte, so every read decodes from offset 1).
   */
  decodeFrom?(bytes: Uint8Array, start: number): R
}

// The codecs msgpackRowCodec made: a table using one stores plain-object rows in the flat layout.
const msgpackCodecs = new WeakSet<object>()

/**
 * MessagePack rows through core's `MsgpackSerializer` (Dates, Maps, typed arrays survive).
 * `RedisStorageTable` stores plain-object records with this codec in a flat layout: their keys
 * once, then their values as a MessagePack array (much cheaper to read than a map).
 */
export function msgpackRowCodec<R>(): RowCodec<R> {
  const serializer = new MsgpackSerializer()
  const codec: RowCodec<R> = {
    name: 'msgpack',
    encode: (record) => serializer.encode(record),
    decode: (bytes) => serializer.decode(bytes) as R,
    decodeFrom: (bytes, start) => serializer.decodeFrom(bytes, start) as R,
  }
  msgpackCodecs.add(codec)
  return codec
}

// Every stored row starts with a format byte, so a foreign or truncated value reads as corrupt
// instead of decoding into something else. A new row format gets a new byte. Format 1: the
// codec's bytes. Format 2 (msgpackRowCodec only): the flat layout of storage-table-flat.ts.
const ROW_FORMAT_1 = 0xc7
const ROW_FORMAT_FLAT = 0xc8

/** Frames rows for `RedisStorageTable`: a format byte, a size limit and typed errors. */
export class StorageRowCodec<R> {
  readonly #codec: RowCodec<R>
  readonly #table: string
  readonly #maxRowBytes: number
  readonly #flat: FlatRows | undefined

  constructor(codec: RowCodec<R>, table: string, maxRowBytes: number) {
    this.#codec = codec
    this.#table = table
    this.#maxRowBytes = maxRowBytes
    this.#flat = msgpackCodecs.has(codec) ? new FlatRows() : undefined
  }

  /**
   * The stored form of `record`; throws `E_SERIALIZATION` when the codec refuses it and
   * `E_VALUE_TOO_LARGE` past `maxRowBytes`.
   */
  encode(primaryKey: string, record: R): Buffer {
    let body: Uint8Array | undefined
    let format = ROW_FORMAT_FLAT
    try {
      body = this.#flat?.encode(record)
      if (body === undefined) {
        format = ROW_FORMAT_1
        body = this.#codec.encode(record)
      }
    } catch (error) {
      throw new SerializationError(
        `[cellar:redis] table '${this.#table}' cannot encode row "${primaryKey}" with ${this.#codec.name}: ${String((error as Error)?.message ?? error)}`,
        { key: primaryKey, cause: error },
      )
    }
    if (!(body instanceof Uint8Array)) {
      throw new SerializationError(
        `[cellar:redis] table '${this.#table}': codec ${this.#codec.name} returned no bytes for row "${primaryKey}"`,
        { key: primaryKey },
      )
    }
    const size = body.byteLength + 1
    if (size > this.#maxRowBytes) {
      throw new InvalidArgumentError(
        `[cellar:redis] table '${this.#table}': row "${primaryKey}" is ${size} bytes, over maxRowBytes ${this.#maxRowBytes}`,
        { key: primaryKey, code: 'E_VALUE_TOO_LARGE' },
      )
    }
    const framed = Buffer.allocUnsafe(size)
    framed[0] = format
    framed.set(body, 1)
    return framed
  }

  /** The record stored as `bytes`; throws `E_SERIALIZATION` naming the key when they are corrupt. */
  decode(primaryKey: string, bytes: Buffer): R {
    return this.decodeAt(bytes, 0, primaryKey)
  }

  /**
   * `decode` of the stored row that starts at `start` in `bytes` (an index member carries its row
   * after the field); `primaryKey` may be a function, called only to name a corrupt row.
   */
  decodeAt(bytes: Buffer, start: number, primaryKey: string | (() => string)): R {
    const format = bytes[start]
    const flat = format === ROW_FORMAT_FLAT ? this.#flat : undefined
    if (bytes.length < start + 2 || (format !== ROW_FORMAT_1 && flat === undefined)) {
      throw this.#corrupt(primaryKey, 'it does not start with the row format byte')
    }
    const codec = this.#codec
    try {
      if (flat !== undefined) return flat.decodeFrom(bytes, start + 1) as R
      return codec.decodeFrom !== undefined
        ? codec.decodeFrom(bytes, start + 1)
        : codec.decode(bytes.subarray(start + 1))
    } catch (error) {
      throw this.#corrupt(primaryKey, String((error as Error)?.message ?? error), error)
    }
  }

  #corrupt(keyOf: string | (() => string), why: string, cause?: unknown): SerializationError {
    const primaryKey = typeof keyOf === 'string' ? keyOf : keyOf()
    return new SerializationError(
      `[cellar:redis] table '${this.#table}': stored row "${primaryKey}" is corrupt (${why})`,
      { key: primaryKey, cause },
    )
  }
}

/**
 * A record's primary key, its score on every index and its stored bytes; throws (before anything
 * is written) on a non-string key, a score that is not a number or NaN, or a row the codec refuses.
 */
export function prepareRow<R>(
  scorer: RecordScorer<R>,
  codec: StorageRowCodec<R>,
  table: string,
  record: R,
): [primaryKey: string, scores: number[], bytes: Buffer] {
  const primaryKey = scorer.primaryKey(record)
  if (typeof primaryKey !== 'string') {
    throw new InvalidArgumentError(
      `[cellar:redis] table '${table}': primary keys must be strings, got ${typeof primaryKey}`,
    )
  }
  const scores = scorer.indexNames.map((index) => {
    const score = scorer.score(index, record)
    if (typeof score !== 'number' || Number.isNaN(score)) {
      throw new InvalidArgumentError(
        `[cellar:redis] table '${table}': row "${primaryKey}" scores ${String(score)} on index '${index}' (scores must be numbers, not NaN)`,
        { key: primaryKey },
      )
    }
    return score
  })
  return [primaryKey, scores, codec.encode(primaryKey, record)]
}

/** Options of `new RedisStorageTable(scorer, options)`. */
export interface RedisStorageTableOptions<R> {
  /** An ioredis `Redis` or `Cluster` instance; the table never closes it. */
  connection: RedisClient
  /** The table's name, unique among the tables on this Redis; no `{` or `}`. */
  name: string
  /**
   * Every key starts with this prefix, then `{name}` (a Cluster hash tag: one slot per table).
   * @default 'cellar-table:'
   */
  prefix?: string
  /**
   * How rows become bytes.
   * @default msgpackRowCodec()
   */
  codec?: RowCodec<R>
  /**
   * Largest encoded row accepted, in bytes; larger puts throw `E_VALUE_TOO_LARGE`.
   * @default 16_777_216 (16 MiB)
   */
  maxRowBytes?: number
}

/** Throws `E_INVALID_ARGUMENT` for `RedisStorageTable` options that cannot work. */
export function checkOptions(
  scorer: RecordScorer<unknown>,
  name: string,
  prefix: string,
  maxRowBytes: number,
  connection: unknown,
): void {
  const refuse = (message: string) => {
    throw new InvalidArgumentError(`[cellar:redis] RedisStorageTable ${message}`)
  }
  if (typeof (connection as { pipeline?: unknown } | undefined)?.pipeline !== 'function') {
    refuse('needs an ioredis Redis or Cluster')
  }
  if (typeof name !== 'string' || name.length === 0) refuse('needs a non-empty name')
  if (/[{}]/.test(name) || /[{}]/.test(prefix)) {
    refuse(`name and prefix must not contain '{' or '}' (the name is the Cluster hash tag)`)
  }
  if (!Number.isSafeInteger(maxRowBytes) || maxRowBytes < 2) {
    refuse('maxRowBytes must be an integer of at least 2')
  }
  if (scorer.indexNames.length === 0) refuse('needs at least one index')
}
