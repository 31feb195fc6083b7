import type { ChainableCommander } from 'ioredis'

/**
 * Row versions staged by `RedisStorageTable#scratchPutRecord`, waiting to be sent: the lot goes
 * out as one `HSET` of every row and one `ZADD` per index, instead of a command per row and index.
 */
export class StagedPuts {
  #rows: Array<string | Buffer> = []
  #scores: Array<Array<number | string>>

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
    for (let i = 0; i < this.#scores.length; i++) {
      ;(this.#scores[i] as Array<number | string>).push(scores[i] as number, field)
    }
  }

  /** Appends the commands that write everything queued to `commands`, and empties the queue. */
  drainInto(commands: ChainableCommander, rowsKey: string, indexKeys: readonly string[]): void {
    if (this.#rows.length === 0) return
    commands.hset(rowsKey, ...this.#rows)
    indexKeys.forEach((key, i) => {
      commands.zadd(key, ...(this.#scores[i] as Array<number | string>))
    })
    this.clear()
  }

  /** Forgets everything queued. */
  clear(): void {
    this.#rows = []
    this.#scores = this.#scores.map(() => [])
  }
}
