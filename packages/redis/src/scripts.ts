import { createHash } from 'node:crypto'
import type { RedisClient } from './types.js'

/** A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it yet. */
export interface LuaScript {
  readonly lua: string
  readonly sha: string
}

function lua(source: string): LuaScript {
  const text = source.trim()
  return { lua: text, sha: createHash('sha1').update(text).digest('hex') }
}

/** How long a fencing counter lives from its creation: 30 days. */
export const FENCE_TTL_MS = 30 * 24 * 60 * 60 * 1000

/**
 * KEYS[1] holder, KEYS[2] fencing counter; ARGV[1] owner, ARGV[2] ttl in ms ('' = none).
 * Resolves the token, or nil when the lock is held. The holder is a hash whose one field is the
 * owner token, so a release is a plain `HDEL holder owner`: compare-and-delete in one native
 * command (the hash goes when its last field does), where a string holder needs a script.
 * The next fencing token comes from the same script, so a token exists only for a successful
 * acquire. A missing counter (first use, expiry, eviction, flush, restart without persistence)
 * restarts at the server clock in microseconds rather than at 1: the next token exceeds every
 * token handed out before as long as fewer than one acquire per microsecond were made. The
 * counter expires `FENCE_TTL_MS` after it was created, not after its last acquire, so an acquire
 * pays no expiry refresh and idle names do not pile up. Expiry and restart read the same clock:
 * a counter only lapses once that clock is `FENCE_TTL_MS` past the clock value it started at,
 * so its successor starts above every token it gave out even if the clock stepped back meanwhile.
 */
export const ACQUIRE = lua(`
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
redis.call('HSET', KEYS[1], ARGV[1], '')
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local token = redis.call('INCR', KEYS[2])
if token == 1 then
  local now = redis.call('TIME')
  token = tonumber(now[1]) * 1000000 + tonumber(now[2])
  redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', '${FENCE_TTL_MS}')
end
return token
`)

/**
 * KEYS[1] holder; ARGV[1] owner. Compare-and-delete of a string holder, as versions before the
 * hash holder wrote them: 1 if the owner held it, else 0. Release runs it only after its `HDEL`
 * met such a holder (WRONGTYPE).
 */
export const RELEASE_STRING = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// The owner of the holder at KEYS[1] (a hash holder's one field, or a string holder's value from
// versions before the hash), or nil when the lock is free.
const OWNER_OF_HOLDER = `
local kind = redis.call('TYPE', KEYS[1])['ok']
local owner
if kind == 'hash' then
  owner = redis.call('HKEYS', KEYS[1])[1]
elseif kind == 'string' then
  owner = redis.call('GET', KEYS[1])
end
`

/** KEYS[1] holder; ARGV[1] owner, ARGV[2] ttl in ms ('' = none). 1 if extended, else 0. */
export const EXTEND = lua(`
${OWNER_OF_HOLDER}
if owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)

/** KEYS[1] holder. `{owner, pttl}` read atomically, or nil when free. */
export const INSPECT = lua(`
${OWNER_OF_HOLDER}
if not owner then return nil end
return {owner, redis.call('PTTL', KEYS[1])}
`)

/**
 * KEYS[1] counter; ARGV[1] delta, ARGV[2] ttl in ms for a counter this call creates ('' = none,
 * '0' = already expired: resolve delta, keep nothing). INCRBY does the arithmetic and refuses
 * a value that is not canonical decimal; a result outside ±(2^53 − 1) is undone in the same
 * script (a Lua number is a double: anything past 2^53 − 1 compares at or above 2^53) and
 * refused. The new value comes back as decimal text: ioredis 6's RESP3 decoder reads an integer
 * reply within ~57 of 2^53 off by one (it computes `n * 10 + byte - 48` left to right).
 */
export const INCREMENT = lua(`
local delta = tonumber(ARGV[1])
local px = tonumber(ARGV[2])
if delta == nil then return redis.error_reply('ERR value is not an integer or out of range') end
local created = redis.call('EXISTS', KEYS[1]) == 0
if created and px ~= nil and px <= 0 then return ARGV[1] end
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value > 9007199254740991 or value < -9007199254740991 then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return redis.error_reply('CELLAR_RANGE the result would leave the safe-integer range')
end
if created and px ~= nil then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return string.format('%.0f', value)
`)

/** KEYS[1] entry. Removes its expiry: 1 if the key exists (with or without one), else 0. */
export const PERSIST = lua(`
if redis.call('PERSIST', KEYS[1]) == 1 then return 1 end
return redis.call('EXISTS', KEYS[1])
`)

/** True for Redis's answer to an EVALSHA of a script it has not cached (first use, restart, SCRIPT FLUSH). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/**
 * Runs a script by SHA1 (one round trip once cached), sending its source only on NOSCRIPT.
 * `args` are the KEYS then the ARGV of the script.
 */
export function runScript(
  client: RedisClient,
  script: LuaScript,
  keyCount: number,
  args: string[],
): Promise<unknown> {
  return client.evalsha(script.sha, keyCount, args).catch((error: unknown) => {
    if (!isNoScript(error)) throw error
    return client.eval(script.lua, keyCount, args)
  })
}
