import { pipelineError } from './errors.js'
import type { RedisClient } from './types.js'

/** ZRANGEBYSCORE bounds of half-open intervals: `[ge, lt)` becomes `ge` and `(lt`. */
export function scoreBounds(intervals: ReadonlyArray<{ ge: number; lt: number }>): string[] {
  return intervals.flatMap(({ ge, lt }) => [
    ge === Number.NEGATIVE_INFINITY ? '-inf' : String(ge),
    lt === Number.POSITIVE_INFINITY ? '+inf' : `(${lt}`,
  ])
}

/**
 * The sorted-set member of a stored version: the byte length of its hash field in decimal, `:`,
 * the field, then the stored row. A range read gets the rows from the index itself, in one
 * command; the length makes the split unambiguous whatever bytes the primary key holds.
 * `REMOVE_VERSIONS` (storage-table-scripts.ts) builds the same bytes in Lua.
 */
export function indexMember(field: string, row: Buffer): Buffer {
  const head = `${Buffer.byteLength(field)}:${field}`
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + row.length)
  const written = out.write(head, 0, 'utf8')
  row.copy(out, written)
  return out
}

/** Where an index member's field starts and ends (its row follows); undefined if malformed. */
export function fieldBounds(member: Buffer): [start: number, end: number] | undefined {
  let length = 0
  for (let i = 0; i < member.length && i < 12; i++) {
    const c = member[i] as number
    if (c === 58) {
      // ':'
      const end = i + 1 + length
      return i > 0 && end <= member.length ? [i + 1, end] : undefined
    }
    if (c < 48 || c > 57) return undefined
    length = length * 10 + (c - 48)
  }
  return undefined
}

/** The generation of the field starting at `start` (base 36 up to ':'), NaN if there is none. */
export function versionAt(member: Buffer, start: number, end: number): number {
  let version = 0
  for (let i = start; i < end; i++) {
    const c = member[i] as number
    if (c === 58) return i > start ? version : Number.NaN
    const digit = c <= 57 ? c - 48 : c - 87
    if (digit < 0 || digit > 35) return Number.NaN
    version = version * 36 + digit
  }
  return Number.NaN
}

/**
 * The members of `indexKey` within the (non-overlapping) intervals, interval by interval: one
 * plain ZRANGEBYSCORE per interval, all in one round trip (a pipeline when there are several).
 *
 * Plain commands rather than a script: every value that crosses into or out of Lua is converted
 * on the server, and a script reading 100 members and their rows cost redis-server 7.0 about
 * 1.0 M instructions against 155 k for ZRANGEBYSCORE plus HMGET (callgrind; see
 * benchmarks/tablecache). Members carry their rows, so this one round trip is the whole read.
 */
export async function rangeMembers(
  client: RedisClient,
  indexKey: string,
  intervals: ReadonlyArray<{ ge: number; lt: number }>,
): Promise<Buffer[]> {
  const bounds = scoreBounds(intervals)
  if (bounds.length === 2) {
    return client.zrangebyscoreBuffer(indexKey, bounds[0] as string, bounds[1] as string)
  }
  const pipeline = client.pipeline()
  for (let i = 0; i < bounds.length; i += 2) {
    pipeline.zrangebyscoreBuffer(indexKey, bounds[i] as string, bounds[i + 1] as string)
  }
  const results = (await pipeline.exec()) as Array<[Error | null, unknown]> | null
  const failure = pipelineError(results)
  if (failure !== undefined) throw failure
  const members: Buffer[] = []
  for (const [, found] of results ?? [])
    for (const member of found as Buffer[]) members.push(member)
  return members
}
