/** Relative expirations above this many seconds (30 days) are read by memcached as Unix times. */
export const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30

const MAX_U32 = 0xffffffff

/** What a write sends: the protocol's expiration and the absolute expiry kept in the flags. */
export interface Expiry {
  /** Seconds from now (up to 30 days), a Unix time beyond that, or 0 for never. */
  readonly exptime: number
  /** The absolute Unix second the entry expires at (0: never), so a rewrite can keep it. */
  readonly flags: number
}

/** Never expires. */
export const NEVER: Expiry = Object.freeze({ exptime: 0, flags: 0 })

/**
 * Converts a TTL in milliseconds (`null` = never, must be > 0 otherwise) to memcached's whole
 * seconds. memcached's clock ticks once a second, so an item given `n` seconds lives between
 * `n - 1` and `n` seconds: we send `ceil(ms / 1000) + 1`, so an entry lives at least its TTL and
 * at most one second more than the TTL rounded up (a 200 ms TTL lives 1–2 s, never "forever").
 * Past 30 days the expiration is sent as an absolute Unix time, as the protocol requires.
 */
export function toExpiry(ms: number | null, now = Date.now()): Expiry {
  if (ms === null) return NEVER
  const seconds = Math.ceil(ms / 1000) + 1
  const at = Math.min(Math.ceil(now / 1000) + seconds, MAX_U32)
  return { exptime: seconds <= MAX_RELATIVE_SECONDS ? seconds : at, flags: at }
}
