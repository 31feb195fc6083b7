import * as zlib from 'node:zlib'

/**
 * On-disk layout of every file the store writes (big-endian):
 *
 * | offset | size | field                                             |
 * | ------ | ---- | ------------------------------------------------- |
 * | 0      | 4    | magic `CLFS`                                      |
 * | 4      | 1    | format version (1)                                |
 * | 5      | 1    | kind: 0 = cache entry, 1 = lock state             |
 * | 6      | 2    | reserved (0)                                      |
 * | 8      | 8    | expiresAt, float64 ms since the epoch; 0 = never  |
 * | 16     | 4    | key length in bytes                               |
 * | 20     | 4    | value length in bytes                             |
 * | 24     | 4    | CRC-32 of bytes 0..24 followed by key and value   |
 * | 28     | …    | key (UTF-8, prefix included), then value          |
 *
 * The exact total length catches truncation, the CRC catches torn or flipped bytes, and the
 * stored key catches a file under the wrong name; any of them makes the file a miss.
 */
export const HEADER_SIZE = 28
export const FORMAT_VERSION = 1
export const MAX_PAYLOAD = 0xffff_ffff

const MAGIC = 0x434c4653 // 'CLFS'

/** What a file holds. */
export const Kind = { entry: 0, lock: 1 } as const
export type Kind = (typeof Kind)[keyof typeof Kind]

/** A decoded file. `value` is a view into the bytes read, not a copy. */
export interface Decoded {
  readonly kind: Kind
  /** Milliseconds since the epoch, or 0 when the file never expires. */
  readonly expiresAt: number
  readonly value: Uint8Array
}

/** The fields `clear` and `prune` need, read without the value. */
export interface Header {
  readonly kind: Kind
  readonly expiresAt: number
  readonly key: Buffer
  readonly totalLength: number
}

/** Builds a whole file: header, key and value in one buffer, ready for a single write. */
export function encodeFile(kind: Kind, key: Buffer, value: Uint8Array, expiresAt: number): Buffer {
  const file = Buffer.allocUnsafe(HEADER_SIZE + key.length + value.byteLength)
  file.writeUInt32BE(MAGIC, 0)
  file[4] = FORMAT_VERSION
  file[5] = kind
  file.writeUInt16BE(0, 6)
  file.writeDoubleBE(expiresAt, 8)
  file.writeUInt32BE(key.length, 16)
  file.writeUInt32BE(value.byteLength, 20)
  key.copy(file, HEADER_SIZE)
  file.set(value, HEADER_SIZE + key.length)
  file.writeUInt32BE(checksum(file), 24)
  return file
}

/**
 * Parses a whole file; resolves `undefined` when anything is off (short, long, wrong magic,
 * version or kind, bad checksum, another key), so the caller treats it as a miss.
 */
export function decodeFile(file: Buffer, kind: Kind, key: Buffer): Decoded | undefined {
  const header = decodeHeader(file)
  if (header === undefined || header.kind !== kind || header.totalLength !== file.length) {
    return undefined
  }
  if (!header.key.equals(key) || file.readUInt32BE(24) !== checksum(file)) return undefined
  const start = HEADER_SIZE + key.length
  return {
    kind,
    expiresAt: header.expiresAt,
    value: new Uint8Array(file.buffer, file.byteOffset + start, file.length - start),
  }
}

/**
 * Parses the fixed header and the key from the first bytes of a file; resolves `undefined`
 * if they are not a header of this format or the key is cut short.
 */
export function decodeHeader(head: Buffer): Header | undefined {
  if (head.length < HEADER_SIZE || head.readUInt32BE(0) !== MAGIC) return undefined
  if (head[4] !== FORMAT_VERSION) return undefined
  const kind = head[5]
  if (kind !== Kind.entry && kind !== Kind.lock) return undefined
  const expiresAt = head.readDoubleBE(8)
  if (!Number.isFinite(expiresAt) || expiresAt < 0) return undefined
  const keyLength = head.readUInt32BE(16)
  if (head.length < HEADER_SIZE + keyLength) return undefined
  return {
    kind,
    expiresAt,
    key: head.subarray(HEADER_SIZE, HEADER_SIZE + keyLength),
    totalLength: HEADER_SIZE + keyLength + head.readUInt32BE(20),
  }
}

/** True when a file written with `expiresAt` is past it at `now` (expiry is inclusive). */
export function isExpired(expiresAt: number, now: number): boolean {
  return expiresAt !== 0 && now > expiresAt
}

function checksum(file: Buffer): number {
  return crc32(file.subarray(HEADER_SIZE), crc32(file.subarray(0, 24), 0))
}

// zlib.crc32 is native from Node 20.15; older 20.x get the table-driven fallback below.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32

let table: Uint32Array | undefined

function crc32(data: Uint8Array, initial: number): number {
  return nativeCrc32 === undefined ? jsCrc32(data, initial) : nativeCrc32(data, initial)
}

/** Table-driven CRC-32 (IEEE), the same function as `zlib.crc32`; exported for its test. */
export function jsCrc32(data: Uint8Array, initial = 0): number {
  table ??= buildTable()
  let crc = ~initial
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

function buildTable(): Uint32Array {
  const result = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    result[n] = c >>> 0
  }
  return result
}
