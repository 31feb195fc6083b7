import { parse } from '@lukeed/ms'
import { InvalidArgumentError } from './errors.js'

/** Milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`. */
export type Duration = number | string

/**
 * A time-to-live: omitted → the store's default; `null` or `'forever'` → never expires;
 * a duration `<= 0` → already expired (the write removes the key).
 */
export type Ttl = Duration | null | undefined

const ZERO_WITH_UNIT = /^-?0*\.?0+\s*([a-z]+)$/i

/** `@lukeed/ms` reads any zero as "not a duration"; a zero with a unit it knows is 0. */
function parseUnit(text: string): number | undefined {
  const ms = parse(text)
  if (ms !== undefined) return ms
  const zero = ZERO_WITH_UNIT.exec(text)
  return zero !== null && parse(`1${zero[1]}`) !== undefined ? 0 : undefined
}

/** Parses a duration to milliseconds; throws `E_INVALID_ARGUMENT` on `NaN` or a bad string. */
export function parseDuration(value: Duration, what = 'duration', key?: string): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) {
      throw new InvalidArgumentError(`[cellar] ${what} must be a number of milliseconds, got NaN`, {
        key,
      })
    }
    return value
  }
  if (typeof value === 'string') {
    const trimmed = value.trim()
    // A bare number string is milliseconds, the unit used everywhere inside.
    const ms = /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : parseUnit(trimmed)
    if (ms === undefined || Number.isNaN(ms)) {
      throw new InvalidArgumentError(
        `[cellar] ${what} ${JSON.stringify(value)} is not a duration (use milliseconds or '30s', '5m', '1h')`,
        { key },
      )
    }
    return ms
  }
  throw new InvalidArgumentError(
    `[cellar] ${what} must be milliseconds or a duration string, got ${typeof value}`,
    { key },
  )
}

/**
 * Resolves a TTL to milliseconds: `null` means never expires, a number `<= 0` means the entry
 * is already expired. `defaultTtl` applies when `ttl` is `undefined`.
 */
export function resolveTtl(ttl: Ttl, defaultTtl: Ttl = null, key?: string): number | null {
  const effective = ttl === undefined ? defaultTtl : ttl
  if (effective === undefined || effective === null || effective === 'forever') return null
  const ms = parseDuration(effective, 'ttl', key)
  if (ms === Number.POSITIVE_INFINITY) return null
  return ms
}
