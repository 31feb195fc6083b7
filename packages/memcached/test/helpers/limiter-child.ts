// The cross-process child of the native limiter conformance: a RateLimiter (from the
// rate-limiter package's source) over its own MemcachedStore on the parent's server and prefix.
import type { LimiterSpec } from '@cellar/conformance'
import { MemcachedStore } from '../../src/index.js'
import { limiterOver } from '../limiter.js'

export async function createLimiter(spec: LimiterSpec) {
  // Several processes on a loaded machine: a slow answer must not fail a decision.
  const store = new MemcachedStore({
    servers: process.env.CELLAR_MEMCACHED_SERVERS as string,
    prefix: process.env.CELLAR_MEMCACHED_PREFIX as string,
    timeout: '20s',
    connectTimeout: '20s',
  })
  return { limiter: limiterOver(store, spec), close: () => store.close() }
}
