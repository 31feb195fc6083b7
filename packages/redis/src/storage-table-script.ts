import { createHash } from 'node:crypto'
import type { RedisClient } from './types.js'

// KEYS[1] an index's sorted set, KEYS[2] the rows hash; ARGV[1] the most rows to return,
// then (min, max) pairs of ZRANGEBYSCORE bounds. Replies {1, members, rows} in one round trip,
// or {0, members} when there are more than ARGV[1] members (the caller then reads the rows in
// chunks, so one script never holds the server for a big read).
const RANGE_WITH_ROWS = `
local members = {}
for i = 2, #ARGV, 2 do
  local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i + 1])
  for _, m in ipairs(found) do members[#members + 1] = m end
end
if #members > tonumber(ARGV[1]) then return {0, members} end
if #members == 0 then return {1, members, {}} end
return {1, members, redis.call('HMGET', KEYS[2], unpack(members))}
`.trim()
const SHA = createHash('sha1').update(RANGE_WITH_ROWS).digest('hex')

/** What `rangeWithRows` found: the members in range and, for small reads, their rows. */
export interface RangeRead {
  readonly members: string[]
  readonly rows: Array<Buffer | null> | undefined
}

/**
 * The members of `indexKey` within the bounds and, when there are at most `maxRows`, their rows
 * from `rowsKey`: one round trip (EVALSHA, sending the script only on NOSCRIPT).
 */
export async function rangeWithRows(
  client: RedisClient,
  indexKey: string,
  rowsKey: string,
  bounds: readonly string[],
  maxRows: number,
): Promise<RangeRead> {
  const args = [indexKey, rowsKey, String(maxRows), ...bounds]
  let reply: unknown
  try {
    reply = await client.callBuffer('evalsha', SHA, '2', ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    reply = await client.callBuffer('eval', RANGE_WITH_ROWS, '2', ...args)
  }
  const [complete, members, rows] = reply as [number, Buffer[], Array<Buffer | null>?]
  return {
    members: members.map((m) => m.toString()),
    rows: complete === 1 ? (rows ?? []) : undefined,
  }
}

/** ZRANGEBYSCORE bounds of half-open intervals: `[ge, lt)` becomes `ge` and `(lt`. */
export function scoreBounds(intervals: ReadonlyArray<{ ge: number; lt: number }>): string[] {
  return intervals.flatMap(({ ge, lt }) => [
    ge === Number.NEGATIVE_INFINITY ? '-inf' : String(ge),
    lt === Number.POSITIVE_INFINITY ? '+inf' : `(${lt}`,
  ])
}
