import {
  assertKey,
  backendError,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  scopedKey,
} from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { RATE_LIMIT_SCRIPTS } from './redis-rate-limit-scripts.js'
import { isNoScript, type LuaScript } from './scripts.js'

/**
 * Redis's native limiter step: one script per decision (one round trip once cached), atomic on
 * the server and timed by its clock, so app servers with skewed clocks agree.
 */
export class RedisRateLimitBackend implements RateLimitBackend {
  readonly #connection: Connection
  readonly #prefix: string
  readonly #open: () => void
  /** Steps of this backend sent and not answered yet. */
  #pending = 0
  #lastRequest: RateLimitRequest | undefined
  #lastTail: readonly string[] = []

  constructor(connection: Connection, prefix: string, open: () => void) {
    this.#connection = connection
    this.#prefix = prefix
    this.#open = open
  }

  fixedWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#run(RATE_LIMIT_SCRIPTS.fixed, key, request)
  }

  slidingWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#run(RATE_LIMIT_SCRIPTS.sliding, key, request)
  }

  tokenBucket(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#run(RATE_LIMIT_SCRIPTS.bucket, key, request)
  }

  async reset(key: string): Promise<void> {
    this.#open()
    assertKey(key)
    try {
      await this.#connection.client.unlink(scopedKey(this.#prefix, key))
    } catch (error) {
      throw backendError(error, { source: 'redis', operation: 'rate limit reset', key })
    }
  }

  #run(script: LuaScript, key: string, r: RateLimitRequest): Promise<RateLimitDecision> {
    let args: Array<string | number>
    try {
      this.#open()
      assertKey(key)
      args = [scopedKey(this.#prefix, key), ...this.#tail(r)]
    } catch (error) {
      return Promise.reject(error)
    }
    // A step joins the connection's tick batching (one write per burst, see `batchWrites`) only
    // when there is something to batch with, as a lock command does: another step of this
    // backend waiting for its reply, a command of the store this tick, or a burst the tick
    // before. A lone step is written at once, without the batching's tick callback.
    const connection = this.#connection
    if (
      connection.cork &&
      (this.#pending > 0 || connection.tick !== undefined || connection.bursting)
    ) {
      batchWrites(connection)
    }
    this.#pending++
    const client = connection.client
    const decode = (reply: unknown) => {
      this.#pending--
      return decision(reply as number | number[], r.limit)
    }
    return client.evalsha(script.sha, 1, ...args).then(decode, (error: unknown) => {
      if (isNoScript(error)) {
        return client.eval(script.lua, 1, ...args).then(decode, (again: unknown) => {
          this.#pending--
          throw backendError(again, { source: 'redis', operation: 'rate limit', key })
        })
      }
      this.#pending--
      throw backendError(error, { source: 'redis', operation: 'rate limit', key })
    })
  }

  // The arguments after the key, as text, leaving out points, flags and blockMs while they have
  // their default (see the scripts); the last request's are kept, as a limiter sends the same
  // policy call after call.
  #tail(r: RateLimitRequest): readonly string[] {
    const last = this.#lastRequest
    if (
      last !== undefined &&
      r.limit === last.limit &&
      r.windowMs === last.windowMs &&
      r.points === last.points &&
      r.force === last.force &&
      r.aligned === last.aligned &&
      r.blockMs === last.blockMs
    ) {
      return this.#lastTail
    }
    const flags = (r.force ? 1 : 0) + (r.aligned ? 2 : 0)
    const tail = [String(r.limit), String(r.windowMs)]
    if (r.points <= 0 || flags !== 0 || r.blockMs !== 0) {
      tail.push(String(r.points), String(flags), String(r.blockMs))
    } else if (r.points !== 1) tail.push(String(r.points))
    this.#lastRequest = { ...r }
    this.#lastTail = tail
    return tail
  }
}

// The script's reply: used * 2^32 + resetMs, or { used, resetMs }, when allowed; { used,
// resetMs, retryAfterMs, remaining } when refused.
const WORD = 2 ** 32

function decision(reply: number | number[], limit: number): RateLimitDecision {
  if (typeof reply === 'number') {
    const used = Math.floor(reply / WORD)
    const resetMs = reply - used * WORD
    return { allowed: true, used, remaining: Math.max(0, limit - used), resetMs, retryAfterMs: 0 }
  }
  const used = reply[0] as number
  const resetMs = reply[1] as number
  if (reply.length === 2) {
    return { allowed: true, used, remaining: Math.max(0, limit - used), resetMs, retryAfterMs: 0 }
  }
  const retryAfterMs = reply[2] as number
  return { allowed: false, used, remaining: reply[3] as number, resetMs, retryAfterMs }
}
