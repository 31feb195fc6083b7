import { createHash } from 'node:crypto'
import { BUCKET_FAST, SLIDING_FAST } from './redis-rate-limit-fast.js'
import type { LuaScript } from './scripts.js'

// One script per algorithm: a line-by-line port of core's reference steps (rate-limit.ts), on
// the server's clock. KEYS[1] is the state; ARGV limit, windowMs, then points (default 1),
// flags (1: force, 2: aligned; default 0) and blockMs (default 0), which the client leaves out
// while they have their default, so a plain consume sends two or three arguments (each one
// costs the server about as much as a short command).
//
// Stored state, three layouts told apart by the key's type and, for a string, its length and
// first byte:
// - a decimal string: a fixed window without a block. The value is the count, the key's expiry
//   is the window's end (set when the window opens, never moved).
// - a packed string (sliding window, token bucket): 33 bytes, a tag byte ('S' or 'T') and four
//   little-endian doubles (struct.pack '<Bdddd'), all integers: sliding a, b, w, k; token bucket
//   a, b, e, k (e below). The key's expiry is the state's end (bucket: e).
// - a hash: fields a, b, w (the algorithm's state) and k (the end of a block), with the key's
//   expiry set in the same script. A fixed window uses it while a block is stored; the other two
//   algorithms wrote it before the packed layout and now read it and replace it. A hash with only
//   `a` (written by the first fixed-window fast path) reads as a window ending at the key's
//   expiry. Every script reads every layout its algorithm wrote in earlier builds; a script of an
//   earlier build fails with WRONGTYPE on a fixed window's string and reads a packed state as no
//   state (see the README's upgrade note). Another algorithm's state reads as no state.
//
// Replies: an allowed decision is one integer, used * 2^32 + resetMs, when used < 2^18 and
// resetMs < 2^32 (below 2^50, exact in a double and in ioredis's integer decoder), otherwise
// { used, resetMs }; a refused one { used, resetMs, retryAfterMs, remaining } (remaining of an
// allowed one is limit - used). A table reply costs the server more than the work it carries.
// A read (0 points) writes nothing and answers for a 1-point consume.
const ARGS = `
local limit = tonumber(ARGV[1])
local W = tonumber(ARGV[2])
local points, flags, blockMs = 1, 0, 0
if ARGV[3] then points = tonumber(ARGV[3]) end
if ARGV[4] then flags = tonumber(ARGV[4]) end
if ARGV[5] then blockMs = tonumber(ARGV[5]) end
local force = flags % 2 == 1
local aligned = flags >= 2
`

// The sliding window and the token bucket read their packed string, or (pcall: WRONGTYPE) the
// hash of earlier builds; nothing else is their state. `third` names the third double.
const READ_PACKED = (tag: number, third: string, fields: string) => `
local has, hash = false, false
local sa, sb, ${third}, sk = 0, 0, 0, 0
if type(v) == 'table' then
  hash = true
  local h = redis.call('HMGET', KEYS[1], ${fields})
  has = h[1] ~= false
  sa, sb, ${third}, sk = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0
elseif v and #v == 33 and string.byte(v) == ${tag} then
  has = true
  sa, sb, ${third}, sk = struct.unpack('<dddd', v, 2)
end
local function n(x) return string.format('%.0f', x) end
`

// One reading of the key and of the server's clock, for the fast path and the full step alike.
const GET_NOW = `
local v = redis.pcall('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// The fixed window also reads its string layout: the count, and the window's end as the expiry.
const READ_FIXED = `
local s = redis.pcall('HMGET', KEYS[1], 'a', 'b', 'w', 'k')
local plain = s.err ~= nil
local has
local pttl = nil
if plain then
  local c = tonumber(redis.call('GET', KEYS[1]))
  pttl = redis.call('PTTL', KEYS[1])
  has = c ~= nil and pttl > 0
  s = { c, false, false, false }
else
  has = s[1] ~= false
end
`

const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sa, sb, sw, sk = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0, tonumber(s[4]) or 0
local function n(x) return string.format('%.0f', x) end
`

// The fixed window's plain consume (points > 0, no flags, no block duration: at most three
// arguments) without the clock: INCRBY on the string layout, whose expiry is the window's end,
// so PTTL is the time left; a key INCRBY just made (no expiry yet) opens a window. A refusal
// takes its points back. A hash (WRONGTYPE), a window ending this millisecond or a count that
// can't be incremented goes on to the full step.
const FIXED_FAST = `
if #ARGV < 4 then
  local n = redis.pcall('INCRBY', KEYS[1], ARGV[3] or '1')
  if type(n) == 'number' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl == -1 then
      ttl = tonumber(ARGV[2])
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    if ttl > 0 then
      local limit = tonumber(ARGV[1])
      if n <= limit then
        if n < 262144 and ttl < 4294967296 then return n * 4294967296 + ttl end
        return { n, ttl }
      end
      local c = redis.call('DECRBY', KEYS[1], ARGV[3] or '1')
      return { c, ttl, ttl, math.max(0, limit - c) }
    end
    if ttl == 0 then redis.call('DECRBY', KEYS[1], ARGV[3] or '1') end
  end
end
`

// A window whose end isn't stored (the string layout, or a hash with only a) ends at the expiry.
const FIXED_END = `
if has and s[3] == false then sw = now + math.max(0, pttl or redis.call('PTTL', KEYS[1])) end
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
if r[1] == 1 then
  if r[2] < 262144 and r[4] < 4294967296 then return r[2] * 4294967296 + r[4] end
  return { r[2], r[4] }
end
return { r[2], r[4], r[5], r[3] }
`

const HASH_WRITE = `
    if plain then redis.call('DEL', KEYS[1]) end
    if has and not plain and st[2] == sb and st[3] == sw and st[4] == sk then
      if st[1] ~= sa then redis.call('HSET', KEYS[1], 'a', n(st[1])) end
      if st[6] then redis.call('PEXPIRE', KEYS[1], n(st[5] - now)) end
    else
      redis.call('HSET', KEYS[1], 'a', n(st[1]), 'b', n(st[2]), 'w', n(st[3]), 'k', n(st[4]))
      redis.call('PEXPIRE', KEYS[1], n(st[5] - now))
    end`

// Without a block, a fixed window is stored in the string layout (its expiry is its end).
const FIXED_WRITE = `
    if st[4] == 0 then
      if not (plain and has and st[1] == sa and st[3] == sw) then
        redis.call('SET', KEYS[1], n(st[1]), 'PX', n(st[5] - now))
      end
    else${HASH_WRITE.replace(/\n {4}/g, '\n      ')}
    end`

// A packed state whose expiry stays put is rewritten in place (SETRANGE keeps the expiry);
// otherwise, or over another layout, SET replaces the key with its new expiry.
const SLIDING_WRITE = `
    if hash or not has or st[6] or st[1] ~= sa or st[2] ~= sb or st[3] ~= sw or st[4] ~= sk then
      local nv = struct.pack('<Bdddd', 83, st[1], st[2], st[3], st[4])
      if hash or not has or st[6] then
        redis.call('SET', KEYS[1], nv, 'PX', n(st[5] - now))
      else
        redis.call('SETRANGE', KEYS[1], '0', nv)
      end
    end`

// The token bucket's state ends at its theoretical arrival time, which every consume moves, so
// an expiry kept equal to it would need a new one per call. Its key instead expires one window
// past the state's end, recorded as e, and the expiry moves only when the state would outlive
// it (about once per limit consumes of a busy key). A state past its end decides as no state,
// so the longer-lived key changes no decision.
const BUCKET_WRITE = `
    local moved = hash or (not has) or st[5] > se
    if moved or st[1] ~= sa or st[2] ~= sb or st[4] ~= sk then
      local e = se
      if moved then e = st[5] + W end
      local nv = struct.pack('<Bdddd', 84, st[1], st[2], e, st[4])
      if moved then
        redis.call('SET', KEYS[1], nv, 'PX', n(e - now))
      else
        redis.call('SETRANGE', KEYS[1], '0', nv)
      end
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
    local send = start + W
    if cur > 0 then send = fin end
    local exp = math.max(send, blocked)
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
  fixed: script(FIXED_FAST, ARGS, READ_FIXED, CLOCK, FIXED_END, FIXED, epilogue(FIXED_WRITE)),
  sliding: script(
    GET_NOW,
    SLIDING_FAST,
    ARGS,
    READ_PACKED(83, 'sw', `'a', 'b', 'w', 'k'`),
    SLIDING,
    epilogue(SLIDING_WRITE),
  ),
  bucket: script(
    GET_NOW,
    BUCKET_FAST,
    ARGS,
    READ_PACKED(84, 'se', `'a', 'b', 'e', 'k'`),
    BUCKET,
    epilogue(BUCKET_WRITE),
  ),
} as const

function script(...parts: string[]): LuaScript {
  const lua = parts.join('').trim()
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}
