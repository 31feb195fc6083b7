// The cross-process child of the native limiter conformance: a RateLimiter (from the
// rate-limiter package's source, as its own tests load the stores) over a KnexStore on the
// parent's database, under the parent's prefix.
import type { LimiterSpec } from '@cellar/conformance'
import { KnexStore } from '../../src/index.js'
import { openKnex, type Target } from '../helpers.js'
import { limiterOver } from '../limiter.js'

export async function createLimiter(spec: LimiterSpec) {
  const target = JSON.parse(process.env.CELLAR_KNEX_TARGET as string) as Target
  const knex = openKnex(target)
  const store = new KnexStore({
    knex,
    prefix: process.env.CELLAR_KNEX_PREFIX as string,
    pruneInterval: false,
  })
  return {
    limiter: limiterOver(store, spec),
    close: async () => {
      await store.close()
      await knex.destroy()
    },
  }
}
