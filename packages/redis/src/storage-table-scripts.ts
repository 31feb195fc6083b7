import { createHash } from 'node:crypto'
import { isNoScript } from './scripts.js'
import type { RedisClient } from './types.js'

// Removes the versions named by fields: a version's index member holds its row (see indexMember
// in storage-table-ranges.ts), so the row is read to name the member. A script keeps the read and
// the removal one step, with no round trip between them.
const REMOVE = `
local function remove(field)
  local row = redis.call('HGET', KEYS[1], field)
  if not row then return end
  redis.call('HDEL', KEYS[1], field)
  local member = #field .. ':' .. field .. row
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], member) end
end
`

/** KEYS[1] rows hash, KEYS[2..] index sorted sets; ARGV: the fields of versions to remove. */
const REMOVE_VERSIONS = `${REMOVE}
for i = 1, #ARGV do remove(ARGV[i]) end
return 0
`

/**
 * KEYS as `REMOVE_VERSIONS`; ARGV[1] the field of a version to replace ('' for none), ARGV[2] the
 * new version's field, ARGV[3] its row, ARGV[4..] its score on each index. Any earlier version
 * under either field goes first, so no member with old row bytes is left behind.
 */
const PUT_VERSION = `${REMOVE}
if ARGV[1] ~= '' then remove(ARGV[1]) end
remove(ARGV[2])
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
