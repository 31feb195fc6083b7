// The plain-consume short paths of the sliding-window and token-bucket scripts
// (redis-rate-limit-scripts.ts): they run first, after GET_NOW has read the key (`v`) and the
// server's clock (`now`), and return a decision, or fall through to the full step.

// The sliding window's plain consume (points > 0, no flags, no block duration) on a packed state
// or none, outside a block: the reference step for that case, with no closure or table, and no
// call that only guards a bound the case keeps. A refusal, or any other case, goes on to the
// full step with the same reading of key and clock. The expiry moves with a new window (or a
// window that had no count of its own). (A hash's WRONGTYPE error is a table of length 0.)
export const SLIDING_FAST = `
if #ARGV < 4 then
  local tag, a, b, w, k = 83, 0, 0, 0, 0
  if v then
    tag = 0
    if #v == 33 then tag, a, b, w, k = struct.unpack('<Bdddd', v) end
  end
  if tag == 83 and k <= now then
    local W = tonumber(ARGV[2])
    local start = now - now % W
    local cur, prev, moved = 0, 0, true
    if v then
      local was = w + W
      if a > 0 then was = was + W end
      if k > was then was = k end
      if w >= start then
        start, cur, prev = w, a, b
      elseif w == start - W then
        prev = a
      end
      moved = start + 2 * W ~= was
    end
    -- now - start < W: start is this window's or a later one's
    local el = now - start
    if el < 0 then el = 0 end
    local p = 1
    if ARGV[3] then p = tonumber(ARGV[3]) end
    local used = math.ceil((prev * (W - el)) / W) + cur + p
    if used <= tonumber(ARGV[1]) then
      local nv = struct.pack('<Bdddd', 83, cur + p, prev, start, 0)
      local reset = start + 2 * W - now
      if moved then
        redis.call('SET', KEYS[1], nv, 'PX', string.format('%.0f', reset))
      else
        redis.call('SETRANGE', KEYS[1], '0', nv)
      end
      if used < 262144 and reset < 4294967296 then return used * 4294967296 + reset end
      return { used, reset }
    end
  end
end
`

// The token bucket's plain consume on a packed state or none, outside a block, as above. The
// arrival time a is never before now (a stale state restarts at now) and p * W > 0, so the new
// one is ahead of now (the state is never idle here) and at most a window ahead when allowed:
// the tokens left are between 0 and L without clamping.
export const BUCKET_FAST = `
if #ARGV < 4 then
  local tag, sa, sb, e, k = 84, 0, 0, 0, 0
  if v then
    tag = 0
    if #v == 33 then tag, sa, sb, e, k = struct.unpack('<Bdddd', v) end
  end
  if tag == 84 and k <= now then
    local L, W = tonumber(ARGV[1]), tonumber(ARGV[2])
    local a, b = now, 0
    if sa > now or (sa == now and sb > 0) then a, b = sa, sb end
    local p = 1
    if ARGV[3] then p = tonumber(ARGV[3]) end
    local nb = b + p * W
    local na = a + math.floor(nb / L)
    nb = nb % L
    if na < now + W or (na == now + W and nb == 0) then
      local fin = na
      if nb > 0 then fin = na + 1 end
      local used = L - math.floor(((now + W - na) * L - nb) / W)
      local reset = fin - now
      if (not v) or fin > e then
        e = fin + W
        local nv = struct.pack('<Bdddd', 84, na, nb, e, 0)
        redis.call('SET', KEYS[1], nv, 'PX', string.format('%.0f', e - now))
      else
        redis.call('SETRANGE', KEYS[1], '0', struct.pack('<Bdddd', 84, na, nb, e, 0))
      end
      if used < 262144 and reset < 4294967296 then return used * 4294967296 + reset end
      return { used, reset }
    end
  end
end
`
