import { InvalidArgumentError } from './errors.js'

/**
 * First byte of every payload the gateway serializes (see `codec.ts`). Counters are stored as
 * plain decimal ASCII (what Redis INCRBY, memcached incr and SQL arithmetic read and write),
 * which never starts with this byte, so the two encodings cannot be confused.
 */
export const SERIALIZED_TAG = 0xc1

const encoder = new TextEncoder()
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

/** Encodes an integer counter the way native counters store it: canonical decimal ASCII. */
export function encodeCounter(value: number): Uint8Array {
  return encoder.encode(String(value))
}

/**
 * Reads a counter: a safe integer (raw stores) or canonical decimal ASCII bytes — an optional
 * `-`, then digits without a leading zero (`0` itself excepted), in the safe-integer range.
 * `"007"`, `"+5"`, `" 5"`, `"-0"` and `"5 "` are not counters (Redis refuses them too), so every
 * store agrees. Resolves `undefined` when the value is not a counter.
 */
export function decodeCounter(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > 17) return undefined
  const negative = value[0] === MINUS
  let i = negative ? 1 : 0
  if (i === value.length) return undefined
  // A leading zero is only allowed as the whole number "0" (so "-0" is refused too).
  if (value[i] === ZERO && (value.length > i + 1 || negative)) return undefined
  let result = 0
  for (; i < value.length; i++) {
    const byte = value[i]!
    if (byte < ZERO || byte > NINE) return undefined
    result = result * 10 + (byte - ZERO)
  }
  if (!Number.isSafeInteger(result)) return undefined
  return negative ? -result : result
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

/**
 * `current + delta`, or `E_NOT_A_NUMBER` naming the key when the sum leaves the safe-integer
 * range: such an increment is refused and the counter stays as it was, on every store.
 */
export function addToCounter(current: number, delta: number, key: string): number {
  const next = current + delta
  if (!Number.isSafeInteger(next)) {
    throw new InvalidArgumentError(
      `[cellar] cannot increment key "${key}" by ${delta}: the result would leave the safe-integer range (±${Number.MAX_SAFE_INTEGER})`,
      { key, code: 'E_NOT_A_NUMBER' },
    )
  }
  return next
}
