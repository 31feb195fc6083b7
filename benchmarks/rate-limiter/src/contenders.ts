import type { Store } from '@cellar/core'
import { RateLimiter } from '@cellar/rate-limiter'
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'

/** One contender: a consume of one key, resolving whether it was allowed. */
export interface Contender {
  readonly name: string
  readonly consume: (key: string) => Promise<boolean>
}

// Every contender allows everything here (the common case: a request under its limit), so each
// call does the full work of a decision and a write.
const LIMIT = 1_000_000_000
const WINDOW_MS = 60_000

/** The ceiling on Redis: one EVALSHA doing INCR, then PEXPIRE on the first hit. */
export function rawLua(redis: Redis): Contender {
  const lua = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`
  redis.defineCommand('benchIncr', { numberOfKeys: 1, lua })
  const call = redis as unknown as {
    benchIncr(key: string, px: number): Promise<number>
  }
  return {
    name: 'raw Lua INCR+PEXPIRE',
    consume: async (key) => (await call.benchIncr(`bench:raw:${key}`, WINDOW_MS)) <= LIMIT,
  }
}

/** The ceiling in memory: a Map of counters with an expiry, behind a promise like the others. */
export function rawMap(): Contender {
  const counters = new Map<string, { count: number; end: number }>()
  return {
    name: 'raw Map counter',
    consume: async (key) => {
      const now = Date.now()
      let entry = counters.get(key)
      if (entry === undefined || entry.end <= now) {
        entry = { count: 0, end: now + WINDOW_MS }
        counters.set(key, entry)
      }
      entry.count += 1
      return entry.count <= LIMIT
    },
  }
}

/** cellar's RateLimiter with one algorithm. */
export function cellar(
  store: Store<unknown>,
  algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket',
  name: string,
): Contender {
  const limiter = new RateLimiter({ store, algorithm, limit: LIMIT, window: WINDOW_MS, name })
  return {
    name: `cellar ${algorithm}`,
    consume: async (key) => (await limiter.consume(key)).allowed,
  }
}

// rate-limiter-flexible counts in whole points per `duration` seconds and rejects when limited.
const rlfOptions = { points: LIMIT, duration: WINDOW_MS / 1000 }

/** rate-limiter-flexible's RateLimiterRedis (its own Lua on the given ioredis client). */
export function flexibleRedis(redis: Redis): Contender {
  const limiter = new RateLimiterRedis({
    ...rlfOptions,
    storeClient: redis,
    keyPrefix: 'bench:rlf',
  })
  return { name: 'rate-limiter-flexible Redis', consume: flexible(limiter) }
}

/** rate-limiter-flexible's RateLimiterMemory. */
export function flexibleMemory(): Contender {
  return {
    name: 'rate-limiter-flexible Memory',
    consume: flexible(new RateLimiterMemory(rlfOptions)),
  }
}

function flexible(limiter: { consume(key: string): Promise<unknown> }) {
  return (key: string) =>
    limiter.consume(key).then(
      () => true,
      (rejection: unknown) => {
        if (rejection instanceof Error) throw rejection
        return false
      },
    )
}
