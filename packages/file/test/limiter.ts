import type { LimiterSpec, LimiterUnderTest } from '@cellar/conformance'
import type { Store } from '@cellar/core'

// The rate limiter from its package's source: @cellar/rate-limiter depends on this package for
// its own tests, so a dependency back would make a cycle. Fork children (tsx) load it the same way.
type RateLimiterClass = new (options: Record<string, unknown>) => LimiterUnderTest
const source = new URL('../../rate-limiter/src/index.ts', import.meta.url).href
const { RateLimiter } = (await import(source)) as { RateLimiter: RateLimiterClass }

/** A RateLimiter of `spec` over `store` (it picks the store's native step). */
export function limiterOver(store: Store<unknown>, spec: LimiterSpec): LimiterUnderTest {
  return new RateLimiter({
    store,
    algorithm: spec.algorithm,
    limit: spec.limit,
    window: spec.windowMs,
    blockDuration: spec.blockMs,
    blockCache: false,
  })
}
