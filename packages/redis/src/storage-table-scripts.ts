import { createHash } from 'node:crypto'
import { isNoScript } from './scripts.js'
import type { RedisClient } from './types.js'

// Removes the versions named by `fields` (a Lua array): a version's index members hold its row
// (see indexMember in storage-table-ranges.ts), so the rows are read to name the members. One
// HMGET, one HDEL and one ZREM per index for the lot: each redis.call has a fixed cost that
// per-version calls paid 2 + indexes times. A script keeps the read and the removal one step.
const REMOVE = `
local function remove(fields)
  local rows = redis.call('HMGET', KEYS[1], unpack(fields))
  local found, members = {}, {}
  for i, row in ipairs(rows) do
    if row then
      found[#found + 1] = fields[i]
      members[#members + 1] = #fields[i] .. ':' .. fields[i] .. row
    end
  end
  if #found == 0 then return end
  redis.call('HDEL', KEYS[1], unpack(found))
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], unpack(members)) end
end
`

/** KEYS[1] rows hash, KEYS[2..] index sorted sets; ARGV: the fields of versions to remove. */
const REMOVE_VERSIONS = `${REMOVE}
remove(ARGV)
return 0
`

/**
 * KEYS as `REMOVE_VERSIONS`; ARGV[1] the field of a version to replace ('' for none), ARGV[2] the
 * new version's field, ARGV[3] its row, ARGV[4..] its score on each index. Any earlier version
 * under either field goes first, so no member with old row bytes is left behind.
 */
const PUT_VERSION = `${REMOVE}
if ARGV[1] ~= '' then remove({ ARGV[1], ARGV[2] }) else remove({ ARGV[2] }) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local member = #ARGV[2] .. ':' .. ARGV[2] .. ARGV[3]
for i = 2, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2 + i], member) end
return 0
`

const sha = (lua: string) => createHash('sha1').update(lua).digest('hex')
const REMOVE_SHA = sha(REMOVE_VERSIONS)
const PUT_SHA = sha(PUT_VERSION)

function run(
  client: RedisClient,
  lua: string,
  digest: string,
  keys: readonly string[],
  args: ReadonlyArray<string | Buffer>,
): Promise<unknown> {
  return client.evalsha(digest, keys.length, ...keys, ...args).catch((error: unknown) => {
    if (!isNoScript(error)) throw error
    return client.eval(lua, keys.length, ...keys, ...args)
  })
}

/** Removes the stored versions `fields` (rows and index members); a missing one is skipped. */
export function removeVersions(
  client: RedisClient,
  keys: readonly string[],
  fields: readonly string[],
): Promise<unknown> {
  return run(client, REMOVE_VERSIONS, REMOVE_SHA, keys, fields)
}

/** Stores the version `field` with its row and scores, replacing `previous` (or '') and itself. */
export function putVersion(
  client: RedisClient,
  keys: readonly string[],
  previous: string,
  field: string,
  row: Buffer,
  scores: readonly number[],
): Promise<unknown> {
  return run(client, PUT_VERSION, PUT_SHA, keys, [previous, field, row, ...scores.map(String)])
}
