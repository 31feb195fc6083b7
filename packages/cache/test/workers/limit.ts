// Forked by rate-limiter.test.ts: a facade over a shared Redis, one limiter from
// `cache.rateLimiter()`; on the parent's "go", `consumes` concurrent consumes of one key; sends
// back how many were allowed.
import { RedisStore } from '@cellar/redis'
import { createCache } from '../../src/index.js'

export interface LimitJob {
  readonly url: string
  readonly storePrefix: string
  readonly cachePrefix: string
  readonly consumes: number
  readonly limit: number
}

const job = JSON.parse(process.argv[2] as string) as LimitJob
const cache = createCache({
  default: 'redis',
  stores: { redis: new RedisStore({ connection: job.url, prefix: job.storePrefix }) },
  prefix: job.cachePrefix,
})
const limiter = cache.rateLimiter({ name: 'burst', limit: job.limit, window: '10m' })
// One round trip before "ready", so connecting is not part of the race.
await cache.get('warm-up')
await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send!('ready')
})
const results = await Promise.all(
  Array.from({ length: job.consumes }, () => limiter.consume('client:1')),
)
process.send!({ allowed: results.filter((r) => r.allowed).length })
await cache.close()
process.disconnect()
