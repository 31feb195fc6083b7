import {
  assertKey,
  backendError,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  scopedKey,
} from '@cellar/core'
import { RATE_LIMIT_SCRIPTS } from './redis-rate-limit-scripts.js'
import { isNoScript, type LuaScript } from './scripts.js'
import type { RedisClient } from './types.js'

/**
 * Redis's native limiter step: one script per decision (one round trip once cached), atomic on
 * the server and timed by its clock, so app servers with skewed clocks agree.
 */
export class RedisRateLimitBackend implements RateLimitBackend {
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #open: () => void
  readonly #maxKeyLength: number
  #lastRequest: RateLimitRequest | undefined
  #lastTail: readonly string[] = []

  /** `maxKeyLength`: the store's limit (UTF-8 bytes after the prefix); longer keys are E_INVALID_KEY. */
  constructor(
    client: RedisClient,
    prefix: string,
    open: () => void,
    maxKeyLength = Number.POSITIVE_INFINITY,
  ) {
    this.#client = client
    this.#prefix = prefix
    this.#open = open
    this.#maxKeyLength = maxKeyLength
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
    assertKey(key, this.#maxKeyLength)
    try {
      await this.#client.unlink(scopedKey(this.#prefix, key))
    } catch (error) {
      throw backendError(error, { source: 'redis', operation: 'rate limit reset', key })
    }
  }

  #run(script: LuaScript, key: string, r: RateLimitRequest): Promise<RateLimitDecision> {
    let args: Array<string | number>
    try {
      this.#open()
      assertKey(key, this.#maxKeyLength)
      args = [scopedKey(this.#prefix, key), ...this.#tail(r)]
    } catch (error) {
      return Promise.reject(error)
    }
    const decode = (reply: unknown) => decision(reply as number | number[], r.limit)
    return this.#client.evalsha(script.sha, 1, ...args).then(decode, (error: unknown) => {
      if (isNoScript(error)) {
        return this.#client.eval(script.lua, 1, ...args).then(decode, (again: unknown) => {
          throw backendError(again, { source: 'redis', operation: 'rate limit', key })
        })
      }
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
