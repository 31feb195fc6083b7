import type { LimiterSpec } from '@cellar/conformance'
import { limiterOptions, openStore, RateLimiter, type Target } from './targets.js'

/** The cross-process child's limiter: the target and prefix come from the parent's env. */
export async function createLimiter(spec: LimiterSpec) {
  const target = JSON.parse(process.env.CELLAR_LIMITER_TARGET as string) as Target
  const opened = await openStore(target, process.env.CELLAR_LIMITER_PREFIX as string)
  return { limiter: new RateLimiter(limiterOptions(opened.store, spec)), close: opened.close }
}
