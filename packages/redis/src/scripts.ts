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

/**
 * KEYS[1] holder, KEYS[2] fencing counter; ARGV[1] owner, ARGV[2] ttl in ms ('' = none).
 * Takes the lock with SET NX and hands out the next fencing token in the same script, so a
 * token exists only for a successful acquire. A missing counter (first use, eviction, flush,
 * restart without persistence) restarts at the server clock in microseconds rather than at 1:
 * the next token still exceeds every token handed out before, as long as fewer than one
 * acquire per microsecond were made.
 */
export const ACQUIRE = lua(`
local held
if ARGV[2] == '' then
  held = redis.call('SET', KEYS[1], ARGV[1], 'NX')
else
  held = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
if not held then return false end
local token = redis.call('INCR', KEYS[2])
if token == 1 then
  local now = redis.call('TIME')
  token = tonumber(now[1]) * 1000000 + tonumber(now[2])
  redis.call('SET', KEYS[2], string.format('%.0f', token))
end
return token
`)

/** KEYS[1] holder; ARGV[1] owner. Compare-and-delete: 1 if the owner held it, else 0. */
export const RELEASE = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

/** KEYS[1] holder; ARGV[1] owner, ARGV[2] ttl in ms ('' = none). 1 if extended, else 0. */
export const EXTEND = lua(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)

/** KEYS[1] holder. `{owner, pttl}` read atomically, or nil when free. */
export const INSPECT = lua(`
local owner = redis.call('GET', KEYS[1])
if not owner then return false end
return {owner, redis.call('PTTL', KEYS[1])}
`)

/** Runs a script by SHA1 (one round trip once cached), sending its source only on NOSCRIPT. */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.eval(script.lua, keys.length, ...keys, ...args)
  }
}
