/** Relative expirations above this many seconds (30 days) are read by memcached as Unix times. */
export const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30

const MAX_U32 = 0xffffffff

/** What a write sends: the protocol's expiration and the expiry second kept in the flags. */
export interface Expiry {
  /** Seconds from now (up to 30 days), a Unix time beyond that, or 0 for never. */
  readonly exptime: number
  /** The Unix second the TTL ends in, rounded up (0: never), so a rewrite can keep it. */
  readonly flags: number
}

/** Never expires. */
export const NEVER: Expiry = Object.freeze({ exptime: 0, flags: 0 })

// memcached's clock ticks once a second: an item given `n` seconds lives between n - 1 and n.
function exptimeFor(seconds: number, at: number): number {
  return seconds <= MAX_RELATIVE_SECONDS ? seconds : Math.min(at + 1, MAX_U32)
}

/**
 * Converts a TTL in milliseconds (`null` = never, must be > 0 otherwise) to memcached's whole
 * seconds: `ceil(ms / 1000) + 1`, because memcached's clock ticks once a second and an item given
 * `n` seconds lives between `n - 1` and `n`. So an entry lives at least its TTL and at most one
 * second more than the TTL rounded up (a 200 ms TTL lives 1–2 s, and never becomes 0, "forever").
 * Past 30 days the expiration is sent as an absolute Unix time, as the protocol requires.
 */
export function toExpiry(ms: number | null, now = Date.now()): Expiry {
  if (ms === null) return NEVER
  const seconds = Math.ceil(ms / 1000) + 1
  const at = Math.min(Math.ceil((now + ms) / 1000), MAX_U32)
  return { exptime: exptimeFor(seconds, at), flags: at }
}

/**
 * The expiry to send when rewriting an item whose flags hold `flags` (from `toExpiry`): the same
 * end second, so a rewrite neither shortens nor drops the TTL (it may add up to a second).
 */
export function keepExpiry(flags: number, now = Date.now()): Expiry {
  // Only an end second is ours: a small value was written by someone else's flags scheme.
  if (flags <= MAX_RELATIVE_SECONDS) return NEVER
  const seconds = Math.max(1, flags - Math.floor(now / 1000) + 1)
  return { exptime: exptimeFor(seconds, flags), flags }
}
