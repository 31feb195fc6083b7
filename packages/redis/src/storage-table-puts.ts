import type { ChainableCommander } from 'ioredis'
import { indexMember } from './storage-table-ranges.js'

/**
 * Row versions staged by `RedisStorageTable#scratchPutRecord`, waiting to be sent: the lot goes
 * out as one `HSET` of every row and one `ZADD` per index, instead of a command per row and index.
 */
export class StagedPuts {
  #rows: Array<string | Buffer> = []
  #scores: Array<Array<number | Buffer>>

  constructor(indexCount: number) {
    this.#scores = Array.from({ length: indexCount }, () => [])
  }

  /** How many versions are queued. */
  get size(): number {
    return this.#rows.length / 2
  }

  /** Queues the version `field` of a row: its bytes and its score on every index. */
  add(field: string, scores: readonly number[], bytes: Buffer): void {
    this.#rows.push(field, bytes)
    // Every index holds the same member: the field and the row (see indexMember).
    const member = indexMember(field, bytes)
    for (let i = 0; i < this.#scores.length; i++) {
      ;(this.#scores[i] as Array<number | Buffer>).push(scores[i] as number, member)
    }
  }

  /** Appends the commands that write everything queued to `commands`, and empties the queue. */
  drainInto(commands: ChainableCommander, rowsKey: string, indexKeys: readonly string[]): void {
    if (this.#rows.length === 0) return
    commands.hset(rowsKey, ...this.#rows)
    indexKeys.forEach((key, i) => {
      commands.zadd(key, ...(this.#scores[i] as Array<number | Buffer>))
    })
    this.clear()
  }

  /** Forgets everything queued. */
  clear(): void {
    this.#rows = []
    this.#scores = this.#scores.map(() => [])
  }
}
