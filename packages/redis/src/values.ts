import { InvalidArgumentError } from '@cellar/core'

// PX past this would overflow Redis's expiry arithmetic; such a TTL is "forever" in practice.
const MAX_PX = Number.MAX_SAFE_INTEGER

/** PX for a resolved TTL: `null` = no expiry, `0` = already expired; 0 < ms < 1 becomes 1. */
export function toPx(ms: number | null): number | null {
  if (ms === null || ms > MAX_PX) return null
  if (ms <= 0) return 0
  return Math.ceil(ms)
}

/** A Buffer over the same bytes (no copy), as ioredis wants binary arguments. */
export function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** A plain Uint8Array view of a reply (no copy): callers compare and type-check bytes as bytes. */
export function toBytes(value: Buffer | null): Uint8Array | undefined {
  return value === null ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.length)
}

/** `value` if it is a positive safe integer or Infinity; else `E_INVALID_ARGUMENT` naming it. */
export function positive(name: string, value: number): number {
  if (!(value > 0) || (value !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(value))) {
    throw new InvalidArgumentError(
      `[cellar:redis] ${name} must be a positive integer or Infinity, got ${String(value)}`,
    )
  }
  return value
}

/** PTTL's answer as `Store#ttl` reports it: -2 missing, -1 no expiry, else at least 1 ms. */
export function fromPttl(pttl: number): number | null | undefined {
  if (pttl === -2) return undefined
  if (pttl < 0) return null
  return Math.max(1, pttl)
}
