import type { ChainableCommander } from 'ioredis'
import { pipelineError } from './errors.js'
import type { StorageRowCodec } from './storage-table-codec.js'
import type { RedisClient } from './types.js'

/** Rows are read at most this many at a time: in one script reply, or one HMGET each. */
export const ROW_CHUNK = 1_000

/** A stored version a read found: its hash field and sorted-set member, and, once read, its record. */
export interface Candidate<R> {
  readonly member: string
  readonly primaryKey: string
  readonly staged: boolean
  record?: R
}

/** Where `readRows` reads: the connection, the rows hash and the row codec. */
export interface RowSource<R> {
  readonly client: RedisClient
  readonly codec: StorageRowCodec<R>
  readonly rowsKey: string
}

/**
 * Reads the candidates' rows and keeps those still there that pass the recheck, with their
 * records: up to ROW_CHUNK in one HMGET, more in chunked HMGETs sent as one pipeline so other
 * clients' commands run in between.
 */
export async function readRows<R>(
  source: RowSource<R>,
  candidates: Candidate<R>[],
  recheck: ((record: R) => boolean) | undefined,
): Promise<Candidate<R>[]> {
  const { client, codec, rowsKey } = source
  const out: Candidate<R>[] = []
  const keep = (candidate: Candidate<R>, record: R) => {
    if (recheck !== undefined && !recheck(record)) return
    candidate.record = record
    out.push(candidate)
  }
  if (candidates.length <= ROW_CHUNK) {
    // One HMGET: its reply is already one bulk string per row, in the order asked.
    const rows = await client.hmgetBuffer(rowsKey, ...candidates.map((c) => c.member))
    candidates.forEach((candidate, i) => {
      const bytes = rows[i]
      // A version removed since the candidates were found (a direct put or delete) is skipped.
      if (bytes !== null && bytes !== undefined) {
        keep(candidate, codec.decode(candidate.primaryKey, bytes))
      }
    })
    return out
  }
  const pipeline: ChainableCommander = client.pipeline()
  for (let i = 0; i < candidates.length; i += ROW_CHUNK) {
    pipeline.hmgetBuffer(rowsKey, ...candidates.slice(i, i + ROW_CHUNK).map((c) => c.member))
  }
  const results = (await pipeline.exec()) as Array<[Error | null, unknown]> | null
  const failure = pipelineError(results)
  if (failure !== undefined) throw failure
  const rows = (results ?? []).flatMap(([, reply]) => reply as Array<Buffer | null>)
  candidates.forEach((candidate, i) => {
    const bytes = rows[i]
    if (bytes !== null && bytes !== undefined)
      keep(candidate, codec.decode(candidate.primaryKey, bytes))
  })
  return out
}
