import { pipelineError } from './errors.js'
import type { StorageRowCodec } from './storage-table-codec.js'
import { fieldBounds, versionAt } from './storage-table-ranges.js'
import { primaryKeyOf, type VersionBook } from './storage-table-versions.js'
import type { RedisClient } from './types.js'

/** Rows are read at most this many per HMGET. */
export const ROW_CHUNK = 1_000

/** A stored version a read found: its hash field and sorted-set member, and, once read, its record. */
export interface Candidate<R> {
  readonly member: string
  readonly primaryKey: string
  readonly staged: boolean
  record?: R
}

/** Where rows are read: the connection, the rows hash and the row codec. */
export interface RowSource<R> {
  readonly client: RedisClient
  readonly codec: StorageRowCodec<R>
  readonly rowsKey: string
}

/**
 * The stored rows of `fields`, in order, null where a field is gone: up to ROW_CHUNK in one
 * HMGET, more in chunked HMGETs sent as one pipeline so other clients' commands run in between.
 */
async function fetchRows(
  client: RedisClient,
  rowsKey: string,
  fields: readonly string[],
): Promise<Array<Buffer | null>> {
  if (fields.length <= ROW_CHUNK) return client.hmgetBuffer(rowsKey, ...fields)
  const pipeline = client.pipeline()
  for (let i = 0; i < fields.length; i += ROW_CHUNK) {
    pipeline.hmgetBuffer(rowsKey, ...fields.slice(i, i + ROW_CHUNK))
  }
  const results = (await pipeline.exec()) as Array<[Error | null, unknown]> | null
  const failure = pipelineError(results)
  if (failure !== undefined) throw failure
  return (results ?? []).flatMap(([, reply]) => reply as Array<Buffer | null>)
}

/**
 * The records stored under `fields` (row versions), in order, that pass the recheck; a version
 * removed since its field was listed (a direct put or delete) is skipped. `primaryKeys`, when
 * given, holds each field's primary key (saving a slice per row).
 */
export async function readRecords<R>(
  source: RowSource<R>,
  fields: readonly string[],
  recheck: ((record: R) => boolean) | undefined,
  primaryKeys?: readonly string[],
): Promise<R[]> {
  const rows = await fetchRows(source.client, source.rowsKey, fields)
  const out: R[] = []
  for (let i = 0; i < rows.length; i++) {
    const bytes = rows[i]
    if (bytes === null || bytes === undefined) continue
    const primaryKey = primaryKeys?.[i] ?? primaryKeyOf(fields[i] as string)
    const record = source.codec.decode(primaryKey, bytes)
    if (recheck === undefined || recheck(record)) out.push(record)
  }
  return out
}

/** `readRecords` for candidates: keeps those still there that pass the recheck, with their records. */
export async function readRows<R>(
  source: RowSource<R>,
  candidates: Candidate<R>[],
  recheck: ((record: R) => boolean) | undefined,
): Promise<Candidate<R>[]> {
  const rows = await fetchRows(
    source.client,
    source.rowsKey,
    candidates.map((candidate) => candidate.member),
  )
  const out: Candidate<R>[] = []
  candidates.forEach((candidate, i) => {
    const bytes = rows[i]
    if (bytes === null || bytes === undefined) return
    const record = source.codec.decode(candidate.primaryKey, bytes)
    if (recheck !== undefined && !recheck(record)) return
    candidate.record = record
    out.push(candidate)
  })
  return out
}

/**
 * The records a range read's index members carry (each member holds its row, see indexMember),
 * in order: those of versions that show at `generation` and pass the recheck.
 */
export function memberRecords<R>(
  codec: StorageRowCodec<R>,
  book: VersionBook,
  members: readonly Buffer[],
  generation: number,
  recheck: ((record: R) => boolean) | undefined,
): R[] {
  const out: R[] = []
  // With no retired version waiting, every version up to the generation is live (see visible).
  const exact = book.dead.size > 0
  for (const member of members) {
    const bounds = fieldBounds(member)
    // Not a member this table wrote.
    if (bounds === undefined) continue
    const [start, end] = bounds
    const version = versionAt(member, start, end)
    if (!(version <= generation)) continue
    if (exact) {
      const field = member.toString('utf8', start, end)
      if (!book.visible(field, version, primaryKeyOf(field), generation)) continue
    }
    const record = codec.decodeAt(member, end, () =>
      primaryKeyOf(member.toString('utf8', start, end)),
    )
    if (recheck === undefined || recheck(record)) out.push(record)
  }
  return out
}
