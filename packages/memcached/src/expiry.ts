/** Relative expirations above this many seconds (30 days) are read by memcached as Unix times. */
export const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30

const MAX_U32 = 0xffffffff
/** The flags count quarter seconds from this instant (2026-01-01T00:00:00Z). */
const FLAGS_EPOCH = Date.UTC(2026, 0, 1)
const FLAGS_STEP = 250

/** What a write sends: the protocol's expiration and the end of the TTL kept in the flags. */
export interface Expiry {
  /** Seconds from now (up to 30 days), a Unix time beyond that, or 0 for never. */
  readonly exptime: number
  /**
   * When the TTL ends, in quarter seconds since 2026-01-01 UTC, rounded down (0: never), so
   * `ttl()` can report it and a rewrite can keep it. Good until 2060; later ends are clamped.
   */
  readonly flags: number
}

/** Never expires. */
export const NEVER: Expiry = Object.freeze({ exptime: 0, flags: 0 })

// memcached's clock is whole seconds, set by a 1 s timer: an item given `n` seconds lives between
// n - 1 and n, or between n - 2 and n when a late timer run moves the clock by 2 at once.
function exptimeFor(seconds: number, endMs: number): number {
  return seconds <= MAX_RELATIVE_SECONDS ? seconds : Math.min(Math.ceil(endMs / 1000) + 1, MAX_U32)
}

function flagsFor(endMs: number): number {
  return Math.min(Math.max(1, Math.floor((endMs - FLAGS_EPOCH) / FLAGS_STEP)), MAX_U32)
}

/** The end of the TTL (ms since the epoch, never later than the real end) kept in `flags`. */
export function endOf(flags: number): number | null {
  return flags === 0 ? null : FLAGS_EPOCH + flags * FLAGS_STEP
}

/** Whole seconds added to a TTL rounded up: what memcached's clock can lose (see `exptimeFor`). */
export const CLOCK_SLACK_SECONDS = 2

/**
 * Converts a TTL in milliseconds (`null` = never, must be > 0 otherwise) to memcached's whole
 * seconds: `ceil(ms / 1000) + 2`. memcached's clock is whole seconds set by a 1 s timer that
 * re-arms itself after each run, so an item given `n` seconds lives between `n - 1` and `n`, and
 * between `n - 2` and `n` when a late run moves the clock by 2 at once (a busy server). So an entry
 * lives at least its TTL and at most two seconds more than the TTL rounded up (a 200 ms TTL lives
 * 2–3 s, usually; never 0, "forever"). Past 30 days the expiration is sent as an absolute Unix
 * time, as the protocol requires.
 */
export function toExpiry(ms: number | null, now = Date.now()): Expiry {
  if (ms === null) return NEVER
  const endMs = now + ms
  const seconds = Math.ceil(ms / 1000) + CLOCK_SLACK_SECONDS
  return { exptime: exptimeFor(seconds, endMs), flags: flagsFor(endMs) }
}

/**
 * The expiry to send when rewriting an item whose flags hold `flags` (from `toExpiry`): the same
 * end, so a rewrite neither shortens nor drops the TTL (it may add up to two seconds).
 */
export function keepExpiry(flags: number, now = Date.now()): Expiry {
  const endMs = endOf(flags)
  if (endMs === null) return NEVER
  const seconds = Math.max(1, Math.ceil((endMs - now) / 1000) + CLOCK_SLACK_SECONDS)
  return { exptime: exptimeFor(seconds, endMs), flags }
}
