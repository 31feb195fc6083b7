// The cross-process child of the native limiter conformance: a RateLimiter (from the
// rate-limiter package's source) over its own FileStore on the parent's directory and prefix.
import type { LimiterSpec } from '@cellar/conformance'
import { FileStore } from '../../src/index.js'
import { limiterOver } from '../limiter.js'

export async function createLimiter(spec: LimiterSpec) {
  const store = new FileStore({
    directory: process.env.CELLAR_FILE_DIRECTORY as string,
    prefix: process.env.CELLAR_FILE_PREFIX as string,
    pruneInterval: false,
  })
  return { limiter: limiterOver(store, spec), close: () => store.close() }
}
