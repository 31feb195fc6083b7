import type { Store } from '@cellar/core'
import { RateLimiter } from '@cellar/rate-limiter'
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'

/**
 * One contender: a consume of one key. The harness awaits whatever it returns (a promise, or a
 * plain value for a synchronous contender), so no contender pays for a wrapper of ours.
 */
export interface Contender {
  readonly name: string
  readonly consume: (key: string) => unknown
}

// Every contender allows everything here (the common case: a request under its limit), so each
// call does the full work of a decision and a write.
export const LIMIT = 1_000_000_000
export const WINDOW_MS = 60_000

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
    consume: (key) => call.benchIncr(`bench:raw:${key}`, WINDOW_MS),
  }
}

/** A Map of counters with an expiry: the whole work of a fixed window, nothing else. */
function mapCounter(): (key: string) => boolean {
  const counters = new Map<string, { count: number; end: number }>()
  return (key) => {
    const now = Date.now()
    let entry = counters.get(key)
    if (entry === undefined || entry.end <= now) {
      entry = { count: 0, end: now + WINDOW_MS }
      counters.set(key, entry)
    }
    entry.count += 1
    return entry.count <= LIMIT
  }
}

/** The ceiling in memory: a synchronous Map counter (the harness still awaits its value). */
export function rawMap(): Contender {
  return { name: 'raw Map counter (sync)', consume: mapCounter() }
}

/** The floor of any promise-returning API: the same Map counter inside an `async` function. */
export function asyncMap(): Contender {
  const count = mapCounter()
  return { name: 'raw Map counter (async)', consume: async (key) => count(key) }
}

/**
 * The floor of a limiter that answers with a promise of a result object: the same Map counter,
 * resolving `{ allowed, limit, remaining, resetMs, retryAfterMs }`. Resolving a promise with an
 * object looks up its `then` (up the prototype chain), which a boolean doesn't need.
 */
export function resultMap(): Contender {
  const counters = new Map<string, { count: number; end: number }>()
  const consume = (key: string) => {
    const now = Date.now()
    let entry = counters.get(key)
    if (entry === undefined || entry.end <= now) {
      entry = { count: 0, end: now + WINDOW_MS }
      counters.set(key, entry)
    }
    entry.count += 1
    const allowed = entry.count <= LIMIT
    const remaining = Math.max(0, LIMIT - entry.count)
    const resetMs = entry.end - now
    return Promise.resolve({ allowed, limit: LIMIT, remaining, resetMs, retryAfterMs: 0 })
  }
  return { name: 'raw Map counter → result object (promise)', consume }
}

type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket'

/** A `RateLimiter` class: this workspace's, or another build's (`BENCH_BEFORE`). */
export type LimiterClass = typeof RateLimiter

/** cellar's RateLimiter with one algorithm (`build` names another build's class and row). */
export function cellar(
  store: Store<unknown>,
  algorithm: Algorithm,
  name: string,
  accept: Array<'evicting'> = [],
  build?: { readonly label: string; readonly RateLimiter: LimiterClass },
): Contender {
  const Limiter = build?.RateLimiter ?? RateLimiter
  const limiter = new Limiter({
    store,
    algorithm,
    limit: LIMIT,
    window: WINDOW_MS,
    name,
    accept,
  })
  const label = build === undefined ? '' : ` (${build.label})`
  return { name: `cellar ${algorithm}${label}`, consume: (key) => limiter.consume(key) }
}

/** cellar's RateLimiter, answered synchronously by `consumeSync` (stores that decide in process). */
export function cellarSync(
  store: Store<unknown>,
  algorithm: Algorithm,
  name: string,
  build?: { readonly label: string; readonly RateLimiter: LimiterClass },
): Contender {
  const Limiter = build?.RateLimiter ?? RateLimiter
  const limiter = new Limiter({ store, algorithm, limit: LIMIT, window: WINDOW_MS, name })
  const label = build === undefined ? '' : ` (${build.label})`
  return {
    name: `cellar ${algorithm} consumeSync${label}`,
    consume: (key) => limiter.consumeSync(key),
  }
}

// rate-limiter-flexible counts in whole points per `duration` seconds and rejects when limited
// (never here: the limit is out of reach, so a rejection would be an error and stop the run).
export const rlfOptions = { points: LIMIT, duration: WINDOW_MS / 1000 }

/** rate-limiter-flexible's RateLimiterRedis (its own Lua on the given ioredis client). */
export function flexibleRedis(redis: Redis): Contender {
  const limiter = new RateLimiterRedis({
    ...rlfOptions,
    storeClient: redis,
    keyPrefix: 'bench:rlf',
  })
  return { name: 'rate-limiter-flexible Redis', consume: (key) => limiter.consume(key) }
}

/** rate-limiter-flexible's RateLimiterMemory. */
export function flexibleMemory(): Contender {
  const limiter = new RateLimiterMemory(rlfOptions)
  return { name: 'rate-limiter-flexible Memory', consume: (key) => limiter.consume(key) }
}
