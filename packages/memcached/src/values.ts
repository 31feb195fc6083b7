import { decodeCounter } from '@cellar/core'

/**
 * First byte of a stored value that was escaped (see `toStored`). memcached never reads a value
 * starting with it as a number, and core's encodings never start with it (counters are digits
 * or `-`, serialized payloads 0xc1, envelopes 0xc2).
 */
export const ESCAPE = 0xc0

const ZERO = 0x30
const NINE = 0x39

// Bytes memcached's incr accepts before a number: C isspace, then a sign, then digits.
function mayParseAsNumber(first: number): boolean {
  return (
    (first >= ZERO && first <= NINE) ||
    first === 0x2d || // -
    first === 0x2b || // +
    first === 0x20 ||
    (first >= 0x09 && first <= 0x0d)
  )
}

/**
 * The bytes to send for a caller's value. memcached's `incr` also increments text that is not a
 * canonical counter (`"007"`, `"+5"`, `" 5"`, `"5 x"`, `"-0"`, numbers past 2^53) and leaves it
 * padded with spaces; core's rule is that `increment` refuses those and leaves them unchanged.
 * So such a value (and one that starts with `ESCAPE` itself) is stored behind one `ESCAPE`
 * byte, which memcached can't parse: its `incr` answers "non-numeric" and the store refuses.
 * Canonical counters and serialized payloads are sent as they are.
 */
export function toStored(value: Uint8Array): Uint8Array {
  const first = value[0]
  if (first === undefined) return value
  if (first !== ESCAPE && (!mayParseAsNumber(first) || decodeCounter(value) !== undefined)) {
    return value
  }
  const escaped = new Uint8Array(value.byteLength + 1)
  escaped[0] = ESCAPE
  escaped.set(value, 1)
  return escaped
}

/** The caller's value for bytes read from memcached (a view, no copy). */
export function fromStored(value: Buffer): Uint8Array {
  const start = value[0] === ESCAPE ? 1 : 0
  return new Uint8Array(value.buffer, value.byteOffset + start, value.byteLength - start)
}
