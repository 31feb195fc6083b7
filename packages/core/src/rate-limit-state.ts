import type { RateLimitState } from './rate-limit.js'

// One text form for stores that keep a limiter's state as an ordinary value (SQL rows, memcached
// items, files): `r1:a:b:w:blockedUntil` in ASCII. The tag lets a store tell a state from any
// other value under the key; the integers are the `RateLimitState` fields as written.
const TAG = 'r1:'
const encoder = new TextEncoder()
const decoder = new TextDecoder('latin1')

/** A limiter state as the bytes of `r1:a:b:w:blockedUntil`. */
export function encodeRateLimitState(state: RateLimitState): Uint8Array {
  return encoder.encode(`${TAG}${state.a}:${state.b}:${state.w}:${state.blockedUntil}`)
}

/**
 * The state `encodeRateLimitState` wrote, or `undefined` for anything else (no value, another
 * kind of value, a damaged one): a store then decides as if the key had no state.
 */
export function decodeRateLimitState(value: unknown): RateLimitState | undefined {
  if (!(value instanceof Uint8Array)) return undefined
  const text = decoder.decode(value)
  if (!text.startsWith(TAG)) return undefined
  const parts = text.slice(TAG.length).split(':').map(Number)
  if (parts.length !== 4 || !parts.every(Number.isSafeInteger)) return undefined
  const [a, b, w, blockedUntil] = parts as [number, number, number, number]
  return { a, b, w, blockedUntil }
}
