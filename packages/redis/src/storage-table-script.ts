import { createHash } from 'node:crypto'
import { SerializationError } from '@cellar/core'
import type { RedisClient } from './types.js'

// Packs (field, row) pairs into one string: per pair a 4-byte big-endian field length, a 4-byte
// row length, the field, the row. One bulk string instead of two per row: the client slices one
// buffer instead of having a reply object made for every field and row.
const PACK = `
local function pack(fields)
  if #fields == 0 then return '' end
  local rows = redis.call('HMGET', KEYS[2], unpack(fields))
  local out = {}
  for i, field in ipairs(fields) do
    local row = rows[i]
    if row then
      out[#out + 1] = struct.pack('>I4I4', #field, #row)
      out[#out + 1] = field
      out[#out + 1] = row
    end
  end
  return table.concat(out)
end
`

// KEYS[1] an index's sorted set, KEYS[2] the rows hash; ARGV[1] the most rows to return,
// then (min, max) pairs of ZRANGEBYSCORE bounds. Replies {1, packed rows} in one round trip,
// or {0, members} when there are more than ARGV[1] members (the caller then reads the rows in
// chunks, so one script never holds the server for a big read).
const RANGE_WITH_ROWS = `${PACK}
local members = {}
for i = 2, #ARGV, 2 do
  local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i + 1])
  for _, m in ipairs(found) do members[#members + 1] = m end
end
if #members > tonumber(ARGV[1]) then return {0, members} end
return {1, pack(members)}
`.trim()

const sha = (script: string) => createHash('sha1').update(script).digest('hex')
const RANGE_SHA = sha(RANGE_WITH_ROWS)

/** What `rangeWithRows` found: packed rows (see `eachRow`), or the members of a big read. */
export type RangeRead =
  | { readonly packed: Buffer; readonly members?: undefined }
  | { readonly packed?: undefined; readonly members: string[] }

async function evalsha(
  client: RedisClient,
  script: string,
  hash: string,
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.callBuffer('evalsha', hash, '2', ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.callBuffer('eval', script, '2', ...args)
  }
}

/**
 * The rows of the members of `indexKey` within the bounds, packed, when there are at most
 * `maxRows` of them; else the members alone. One round trip (EVALSHA; the script is sent only
 * on NOSCRIPT).
 */
export async function rangeWithRows(
  client: RedisClient,
  indexKey: string,
  rowsKey: string,
  bounds: readonly string[],
  maxRows: number,
): Promise<RangeRead> {
  const reply = await evalsha(client, RANGE_WITH_ROWS, RANGE_SHA, [
    indexKey,
    rowsKey,
    String(maxRows),
    ...bounds,
  ])
  const [complete, found] = reply as [number, Buffer | Buffer[]]
  if (complete === 1) return { packed: found as Buffer }
  return { members: (found as Buffer[]).map((m) => m.toString()) }
}

const malformed = (where: string) =>
  new SerializationError(`[cellar:redis] a packed row reply ends inside ${where}`)

/**
 * Calls `each(field, start, end)` for every packed pair: the row's bytes are `packed[start, end)`.
 * Throws `E_SERIALIZATION` on a packing that does not add up (it never should: the script wrote it).
 */
export function eachRow(
  packed: Buffer,
  each: (field: string, start: number, end: number) => void,
): void {
  let at = 0
  while (at < packed.length) {
    if (at + 8 > packed.length) throw malformed('a header')
    const fieldLength = packed.readUInt32BE(at)
    const rowLength = packed.readUInt32BE(at + 4)
    const fieldEnd = at + 8 + fieldLength
    const rowEnd = fieldEnd + rowLength
    if (rowEnd > packed.length) throw malformed('a row')
    each(packed.toString('utf8', at + 8, fieldEnd), fieldEnd, rowEnd)
    at = rowEnd
  }
}

/** ZRANGEBYSCORE bounds of half-open intervals: `[ge, lt)` becomes `ge` and `(lt`. */
export function scoreBounds(intervals: ReadonlyArray<{ ge: number; lt: number }>): string[] {
  return intervals.flatMap(({ ge, lt }) => [
    ge === Number.NEGATIVE_INFINITY ? '-inf' : String(ge),
    lt === Number.POSITIVE_INFINITY ? '+inf' : `(${lt}`,
  ])
}
