import type { RateLimitResult } from './options.js'

/** Options of `rateLimitHeaders`. */
export interface RateLimitHeaderOptions {
  /** The window the limit applies to, in milliseconds (`limiter.windowMs`). */
  readonly windowMs: number
  /** The policy's name in both headers. @default 'default' */
  readonly policy?: string
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000))

/**
 * The IETF httpapi draft's `RateLimit-Policy` and `RateLimit` fields for a result (quota `q`,
 * window `w`, remaining `r` and reset `t`, whole seconds rounded up), plus `Retry-After` in
 * seconds when the request was refused.
 */
export function rateLimitHeaders(
  result: RateLimitResult,
  options: RateLimitHeaderOptions,
): Record<string, string> {
  const name = JSON.stringify(options.policy ?? 'default')
  const headers: Record<string, string> = {
    'RateLimit-Policy': `${name};q=${result.limit};w=${seconds(options.windowMs)}`,
    RateLimit: `${name};r=${result.remaining};t=${seconds(result.resetMs)}`,
  }
  if (!result.allowed) headers['Retry-After'] = String(Math.max(1, seconds(result.retryAfterMs)))
  return headers
}
