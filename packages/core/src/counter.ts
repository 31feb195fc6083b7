import { InvalidArgumentError } from './errors.js'

/**
 * First byte of every payload the gateway serializes. Counters are stored as plain decimal
 * ASCII (what Redis INCRBY, memcached incr and SQL arithmetic read and write), which never
 * starts with this byte, so the two encodings cannot be confused.
 */
export const SERIALIZED_TAG = 0xc1

const encoder = new TextEncoder()
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

/** Encodes an integer counter the way native counters store it: decimal ASCII. */
export function encodeCounter(value: number): Uint8Array {
  return encoder.encode(String(value))
}

/**
 * Reads a counter: a number (raw stores) or decimal ASCII bytes. Resolves `undefined` when
 * the value is not an integer counter.
 */
export function decodeCounter(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value === 'bigint') return Number(value)
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > 21) return undefined
  let i = value[0] === MINUS ? 1 : 0
  if (i === value.length) return undefined
  let result = 0
  for (; i < value.length; i++) {
    const byte = value[i]!
    if (byte < ZERO || byte > NINE) return undefined
    result = result * 10 + (byte - ZERO)
  }
  if (!Number.isSafeInteger(result)) return undefined
  return value[0] === MINUS ? -result : result
}

/** `decodeCounter` that throws `E_NOT_A_NUMBER` naming the key when the value is not a counter. */
export function requireCounter(value: unknown, key: string): number {
  const counter = decodeCounter(value)
  if (counter === undefined) {
    throw new InvalidArgumentError(
      `[cellar] cannot increment key "${key}": its value is not an integer counter`,
      { key, code: 'E_NOT_A_NUMBER' },
    )
  }
  return counter
}
