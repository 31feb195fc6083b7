import { createHash } from 'node:crypto'
import {
  assertKey,
  backendError,
  type RateLimitBackend,
  type RateLimitDecision,
  type RateLimitRequest,
  scopedKey,
} from '@cellar/core'
import type { LuaScript } from './scripts.js'
import type { RedisClient } from './types.js'

// One script per algorithm: a line-by-line port of core's reference steps (rate-limit.ts), on
// the server's clock (TIME), over one hash per key (a, b, w: the algorithm's state; k: the end
// of a block) whose expiry is set in the same script. KEYS[1] state; ARGV limit, windowMs,
// points, flags (1: force, 2: aligned), blockMs. An allowed decision replies { used, resetMs }
// (remaining is limit - used), a refused one { used, resetMs, retryAfterMs, remaining }. A read
// (0 points) writes nothing and answers for a 1-point consume. Only the fields that changed are
// written, and the expiry only when it moved; the fixed window's common consume doesn't read
// the clock (see FIXED_FAST).
const ARGS = `
local limit = tonumber(ARGV[1])
local W = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local flags = tonumber(ARGV[4])
local force = flags % 2 == 1
local aligned = flags >= 2
local blockMs = tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'a', 'b', 'w', 'k')
local has = s[1] ~= false
`

const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sa, sb, sw, sk = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0, tonumber(s[4]) or 0
local function n(x) return string.format('%.0f', x) end
`

// The fixed window's common consume without the clock: with no block stored (k absent or 0),
// the key's expiry is the window's end (set with it, never moved), so an existing key is a live
// window and PTTL is the time left. A window this path opens stores no end (w): the full step
// reads it back as now + PTTL. Anything else (a block, aligned windows, force, reads, a first
// consume over the limit) goes on to the full step.
const FIXED_FAST = `
if points > 0 and not force and not aligned and (s[4] == false or s[4] == '0') then
  if not has then
    if points <= limit then
      redis.call('HSET', KEYS[1], 'a', ARGV[3])
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return { points, W }
    end
  else
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then
      local count = tonumber(s[1])
      if count + points <= limit then
        return { redis.call('HINCRBY', KEYS[1], 'a', ARGV[3]), ttl }
      elseif blockMs == 0 then
        return { count, ttl, ttl, math.max(0, limit - count) }
      end
    end
  end
end
`

// A window opened by the fast path has no stored end: it is the key's expiry.
const FIXED_END = `
if has and s[3] == false then sw = now + math.max(0, redis.call('PTTL', KEYS[1])) end
`

// st = { a, b, w, k, expiry, expiry may have moved }; `write` stores st (or deletes the key).
const epilogue = (write: string) => `
local r = step(points, force, blockMs)
if points == 0 then
  if r[6] ~= nil then
    local probe = step(1, false, 0)
    r[1] = probe[1]
    r[5] = probe[5]
  end
else
  local st = r[6]
  if st == nil then
    if has then redis.call('DEL', KEYS[1]) end
  else${write}
  end
end
if r[1] == 1 then return { r[2], r[4] } end
return { r[2], r[4], r[5], r[3] }
`

const WRITE = `
    if has and st[2] == sb and st[3] == sw and st[4] == sk then
      if st[1] ~= sa then redis.call('HSET', KEYS[1], 'a', n(st[1])) end
      if st[6] then redis.call('PEXPIRE', KEYS[1], n(st[5] - now)) end
    else
      redis.call('HSET', KEYS[1], 'a', n(st[1]), 'b', n(st[2]), 'w', n(st[3]), 'k', n(st[4]))
      redis.call('PEXPIRE', KEYS[1], n(st[5] - now))
    end`

// The token bucket's state ends at its theoretical arrival time, which every consume moves, so
// an expiry kept equal to it would cost a PEXPIRE per call. Its key instead expires one window
// past the state's end, recorded in field e, and the expiry moves only when the state would
// outlive it (about once per limit consumes of a busy key). A state past its end decides as
// no state, so the longer-lived key changes no decision; w is never used, so never written.
const BUCKET_ARGS = ARGS.replace(`'w', 'k')`, `'w', 'k', 'e')`)
const BUCKET_WRITE = `
    local moved = (not has) or st[5] > (tonumber(s[5]) or 0)
    if moved or st[1] ~= sa or st[2] ~= sb or st[4] ~= sk then
      local f = { 'a', n(st[1]), 'b', n(st[2]) }
      if (not has) or st[4] ~= sk then
        f[5] = 'k'
        f[6] = n(st[4])
      end
      if moved then
        f[#f + 1] = 'e'
        f[#f + 1] = n(st[5] + W)
      end
      redis.call('HSET', KEYS[1], unpack(f))
      if moved then redis.call('PEXPIRE', KEYS[1], n(st[5] + W - now)) end
    end`

const FIXED = `
local function step(p, f, bms)
  local blocked = (has and sk > now) and sk or 0
  local live = has and sw > now
  local fin
  if live then fin = sw elseif aligned then fin = now - (now % W) + W else fin = now + W end
  local count = live and sa or 0
  if (not live) and blocked == 0 and p == 0 then return { 1, 0, limit, 0, 0, nil } end
  if blocked > 0 and p > 0 and not f then
    local exp = math.max(fin, blocked)
    return { 0, count, 0, exp - now, blocked - now, { count, 0, fin, blocked, exp, exp ~= math.max(sw, sk) } }
  end
  local nxt = math.max(0, count + p)
  local allowed = p <= 0 or nxt <= limit
  if allowed or f then count = nxt end
  local block = blocked
  if (not allowed) and bms > 0 and blocked == 0 then block = now + bms end
  local exp = math.max(fin, block)
  local retry = 0
  if not allowed then
    if block > now then retry = block - now else retry = fin - now end
  end
  return { allowed and 1 or 0, count, math.max(0, limit - count), exp - now, retry, { count, 0, fin, block, exp, exp ~= math.max(sw, sk) } }
end
`

const SLIDING = `
local function step(p, f, bms)
  local blocked = (has and sk > now) and sk or 0
  local start = now - (now % W)
  local cur, prev = 0, 0
  if has then
    if sw >= start then
      start = sw
      cur = sa
      prev = sb
    elseif sw == start - W then
      prev = sa
    end
  end
  local el = math.min(W, math.max(0, now - start))
  local function wt(x) return math.ceil((x * (W - el)) / W) end
  if cur == 0 and prev == 0 and blocked == 0 and p == 0 then return { 1, 0, limit, 0, 0, nil } end
  local fin = start + 2 * W
  if blocked > 0 and p > 0 and not f then
    local used = wt(prev) + cur
    local exp = math.max(fin, blocked)
    return { 0, used, math.max(0, limit - used), exp - now, blocked - now, { cur, prev, start, blocked, exp, true } }
  end
  local allowed = p <= 0 or wt(prev) + cur + p <= limit
  if allowed or f then cur = math.max(0, cur + p) end
  local block = blocked
  if (not allowed) and bms > 0 and blocked == 0 then block = now + bms end
  local used = wt(prev) + cur
  local retry = 0
  if not allowed then
    if block > now then
      retry = block - now
    elseif cur + p <= limit then
      local room = limit - cur - p
      retry = math.max(1, math.ceil(W - (room * W) / prev) - el)
    elseif p > limit then
      retry = 2 * W - el
    else
      local room = limit - p
      local at = 0
      if cur > room then at = math.ceil(W - (room * W) / cur) end
      retry = W - el + at
    end
  end
  local send = start + W
  if cur > 0 then send = fin end
  local exp = math.max(send, block)
  local moved = exp ~= math.max(sw + (sa > 0 and 2 * W or W), sk)
  return { allowed and 1 or 0, used, math.max(0, limit - used), math.max(0, exp - now), retry, { cur, prev, start, block, exp, moved } }
end
`

const BUCKET = `
local function step(p, f, bms)
  local blocked = (has and sk > now) and sk or 0
  local a, b = now, 0
  if has and (sa > now or (sa == now and sb > 0)) then
    a = sa
    b = sb
  end
  local function tokens(ta, tb)
    return math.min(limit, math.max(0, math.floor(((now + W - ta) * limit - tb) / W)))
  end
  local function te(ta, tb) if tb > 0 then return ta + 1 end return ta end
  if a == now and b == 0 and blocked == 0 and p == 0 then return { 1, 0, limit, 0, 0, nil } end
  if blocked > 0 and p > 0 and not f then
    local left = tokens(a, b)
    local exp = math.max(te(a, b), blocked)
    return { 0, limit - left, left, exp - now, blocked - now, { a, b, 0, blocked, exp, true } }
  end
  local nb = b + p * W
  local na = a + math.floor(nb / limit)
  nb = nb % limit
  if na < now then
    na = now
    nb = 0
  end
  local allowed = p <= 0 or na < now + W or (na == now + W and nb == 0)
  if allowed or f then
    a = na
    b = nb
  end
  local block = blocked
  if (not allowed) and bms > 0 and blocked == 0 then block = now + bms end
  local retry = 0
  if not allowed then
    if block > now then retry = block - now else retry = te(na - W, nb) - now end
  end
  local left = tokens(a, b)
  local exp = math.max(te(a, b), block)
  local st = nil
  if exp > now then st = { a, b, 0, block, exp, true } end
  return { allowed and 1 or 0, limit - left, left, math.max(0, exp - now), retry, st }
end
`

/** The fixed-window, sliding-window and token-bucket scripts (see `redis-rate-limit.ts`). */
export const RATE_LIMIT_SCRIPTS = {
  fixed: script(ARGS, FIXED_FAST, CLOCK, FIXED_END, FIXED, epilogue(WRITE)),
  sliding: script(ARGS, CLOCK, SLIDING, epilogue(WRITE)),
  bucket: script(BUCKET_ARGS, CLOCK, BUCKET, epilogue(BUCKET_WRITE)),
} as const

function script(...parts: string[]): LuaScript {
  const lua = parts.join('').trim()
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * Redis's native limiter step: one script per decision (one round trip once cached), atomic on
 * the server and timed by its clock, so app servers with skewed clocks agree.
 */
export class RedisRateLimitBackend implements RateLimitBackend {
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #open: () => void

  constructor(client: RedisClient, prefix: string, open: () => void) {
    this.#client = client
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
      await this.#client.unlink(scopedKey(this.#prefix, key))
    } catch (error) {
      throw backendError(error, { source: 'redis', operation: 'rate limit reset', key })
    }
  }

  #run(script: LuaScript, key: string, r: RateLimitRequest): Promise<RateLimitDecision> {
    let args: Array<string | number>
    try {
      this.#open()
      assertKey(key)
      const flags = (r.force ? 1 : 0) + (r.aligned ? 2 : 0)
      args = [scopedKey(this.#prefix, key), r.limit, r.windowMs, r.points, flags, r.blockMs]
    } catch (error) {
      return Promise.reject(error)
    }
    const decode = (reply: unknown) => decision(reply as number[], r.limit)
    return this.#client.evalsha(script.sha, 1, ...args).then(decode, (error: unknown) => {
      // NOSCRIPT: the server has not cached the script yet (first use, restart, SCRIPT FLUSH).
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return this.#client.eval(script.lua, 1, ...args).then(decode, (again: unknown) => {
          throw backendError(again, { source: 'redis', operation: 'rate limit', key })
        })
      }
      throw backendError(error, { source: 'redis', operation: 'rate limit', key })
    })
  }
}

// The script's reply: { used, resetMs } when allowed, { used, resetMs, retryAfterMs,
// remaining } when refused.
function decision(reply: number[], limit: number): RateLimitDecision {
  const used = reply[0] as number
  const resetMs = reply[1] as number
  if (reply.length === 2) {
    return { allowed: true, used, remaining: Math.max(0, limit - used), resetMs, retryAfterMs: 0 }
  }
  const retryAfterMs = reply[2] as number
  return { allowed: false, used, remaining: reply[3] as number, resetMs, retryAfterMs }
}
