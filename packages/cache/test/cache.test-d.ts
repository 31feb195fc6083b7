import { NullStore } from '@cellar/core'
import type { RateLimiter } from '@cellar/rate-limiter'
import { expectTypeOf } from 'vitest'
import { z } from 'zod'
import { createCache, failover, type Repository } from '../src/index.js'

const cache = createCache({
  default: 'redis',
  stores: {
    redis: new NullStore(),
    memory: () => new NullStore(),
    both: failover(['redis', 'memory']),
  },
})

// Configured names compile; a typo does not.
expectTypeOf(cache.store('memory')).toEqualTypeOf<Repository>()
expectTypeOf(cache.store('both')).toEqualTypeOf<Repository>()
// @ts-expect-error 'typo' is not a configured store
cache.store('typo')

// @ts-expect-error the default must be one of the configured names
createCache({ default: 'nope', stores: { redis: new NullStore() } })

// Reads are typed by the caller, by a default or by a schema.
expectTypeOf(cache.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>()
expectTypeOf(cache.get('k', 5)).toEqualTypeOf<Promise<number>>()
expectTypeOf(cache.get('k', { schema: z.object({ id: z.number() }) })).toEqualTypeOf<
  Promise<{ id: number } | undefined>
>()
expectTypeOf(cache.remember('k', '1m', async () => ({ id: 1 }))).toEqualTypeOf<
  Promise<{ id: number }>
>()
expectTypeOf(cache.increment('n')).toEqualTypeOf<Promise<number>>()

// A rate limiter over the cache's own store (on the default store and on a named one).
expectTypeOf(cache.rateLimiter({ limit: 5, window: '1m' })).toEqualTypeOf<RateLimiter>()
expectTypeOf(
  cache.store('memory').rateLimiter({ name: 'login', limit: 5, window: '1m' }),
).toEqualTypeOf<RateLimiter>()
// @ts-expect-error the limiter's store is the cache's; it can't be passed in
cache.rateLimiter({ store: new NullStore(), limit: 5, window: '1m' })
// @ts-expect-error limit and window are required
cache.rateLimiter({ limit: 5 })
