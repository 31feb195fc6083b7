import {
  InvalidArgumentError,
  type RecordScorer,
  type StorageRecordsSpec,
  type StorageTable,
} from '@cellar/core'
import type { ChainableCommander } from 'ioredis'
import { pipelineError, toCellarError } from './errors.js'
import {
  checkOptions,
  msgpackRowCodec,
  prepareRow,
  type RedisStorageTableOptions,
  StorageRowCodec,
} from './storage-table-codec.js'
import { StagedPuts } from './storage-table-puts.js'
import { fieldBounds, rangeMembers } from './storage-table-ranges.js'
import {
  type Candidate,
  memberRecords,
  type RowSource,
  readRecords,
  readRows,
} from './storage-table-rows.js'
import { putVersion, removeVersions } from './storage-table-scripts.js'
import { member, parseMember, primaryKeyOf, VersionBook } from './storage-table-versions.js'
import type { RedisClient } from './types.js'

// Staged puts travel this many records at a time (one HSET, one ZADD per index); each batch is
// awaited. Small batches keep a read on the same connection from waiting long behind bulk work.
const PUT_BATCH = 128
// Removals go out in scripts of at most this many versions, REMOVE_BATCH versions at a time.
const REMOVE_CHUNK = 250
const REMOVE_BATCH = 1_000

/**
 * `StorageTable` in Redis: rows in one hash, one sorted set per index (score = the record's
 * index score), every key under the hash tag `{name}` so a Cluster keeps the table in one slot.
 * Each stored version of a row is its own hash field (`<generation>:<primary key>`) and sorted-set
 * member (the field and a copy of the row, so a range read is one command), tagged with the
 * generation that wrote it; the owner process keeps the visible generation, the live version of
 * every primary key and the versions pending removal. A scratch merge bumps the generation in one
 * synchronous step, so a read (which pins the generation it starts at) sees the whole old set or
 * the whole new one; superseded versions are removed once no read of an older generation is
 * running. A range read is one round trip (a ZRANGEBYSCORE per interval), a read by key one HMGET.
 * One process owns a table: its state does not survive that process, so start with `clear()`.
 * The keys must not be evicted (`maxmemory-policy noeviction`, or a Redis of their own).
 */
export class RedisStorageTable<R> implements StorageTable<R> {
  readonly name: string
  /** Every Redis key of the table: the rows hash, then one sorted set per index. */
  readonly keys: readonly string[]
  readonly #client: RedisClient
  readonly #scorer: RecordScorer<R>
  readonly #codec: StorageRowCodec<R>
  readonly #rowsKey: string
  readonly #indexKeys: ReadonlyMap<string, string>
  readonly #book = new VersionBook()
  readonly #staged: StagedPuts
  readonly #source: RowSource<R>
  #collecting: Promise<void> | undefined
  #collectAgain = false

  constructor(scorer: RecordScorer<R>, options: RedisStorageTableOptions<R>) {
    const { connection, name } = options
    const prefix = options.prefix ?? 'cellar-table:'
    const maxRowBytes = options.maxRowBytes ?? 16 * 1024 * 1024
    checkOptions(scorer as RecordScorer<unknown>, name, prefix, maxRowBytes, connection)
    this.name = name
    this.#client = connection
    this.#scorer = scorer
    this.#codec = new StorageRowCodec(options.codec ?? msgpackRowCodec<R>(), name, maxRowBytes)
    const base = `${prefix}{${name}}`
    this.#rowsKey = `${base}:rows`
    this.#indexKeys = new Map(scorer.indexNames.map((index) => [index, `${base}:index:${index}`]))
    this.keys = [this.#rowsKey, ...this.#indexKeys.values()]
    this.#staged = new StagedPuts(this.#indexKeys.size)
    this.#source = { client: connection, codec: this.#codec, rowsKey: this.#rowsKey }
  }

  /** Removes every record and anything staged (deletes the table's keys). */
  async clear(): Promise<void> {
    this.#staged.clear()
    this.#book.reset()
    // A removal of superseded versions still running finishes first, so none of its commands
    // is left in flight once `clear()` resolves (a caller may close the connection next).
    await this.#collecting?.catch(() => undefined)
    await this.#run('clear', () => this.#client.del(...this.keys))
  }

  /** Stores (or replaces) a record at once, in one script; not atomic with concurrent reads. */
  async putRecord(record: R): Promise<void> {
    const [primaryKey, scores, bytes] = this.#prepare(record)
    const generation = this.#book.generation
    const previous = this.#book.live.get(primaryKey)
    const replaced =
      previous !== undefined && previous !== generation ? member(previous, primaryKey) : ''
    const field = member(generation, primaryKey)
    await this.#run('putRecord', () =>
      putVersion(this.#client, this.keys, replaced, field, bytes, scores),
    )
    this.#book.live.set(primaryKey, generation)
  }

  /** Resolves the visible record with this primary key, or undefined. */
  getRecord(primaryKey: string): Promise<R | undefined> {
    const generation = this.#book.enter()
    const version = this.#book.live.get(primaryKey)
    if (version === undefined) {
      this.#leave(generation)
      return Promise.resolve(undefined)
    }
    const field = member(version, primaryKey)
    return this.#run('getRecord', () => this.#client.hgetBuffer(this.#rowsKey, field))
      .then((bytes) => (bytes === null ? undefined : this.#codec.decode(primaryKey, bytes)))
      .finally(() => this.#leave(generation))
  }

  /** The records of the generation visible at the call: ranges in one round trip, keys one HMGET. */
  getRecords(spec: StorageRecordsSpec<R>): Promise<R[]> {
    let generation: number
    try {
      this.#indexKey(spec.indexName)
      generation = this.#book.enter()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#read(spec, generation).finally(() => this.#leave(generation))
  }

  /** Removes exactly the records `getRecords(spec)` would resolve, at once; resolves how many. */
  async deleteRecords(spec: StorageRecordsSpec<R>): Promise<number> {
    const found = await this.#select(spec, this.#book.generation, false)
    if (found.length === 0) return 0
    await this.#remove(
      'deleteRecords',
      found.map((candidate) => candidate.member),
    )
    // At the current generation only live versions are visible, so these were all live.
    for (const { primaryKey } of found) {
      this.#book.live.delete(primaryKey)
      this.#book.stagedDiscards.delete(primaryKey)
    }
    return found.length
  }

  /** Stages a put as a version of the next generation (undoing a staged discard of its key). */
  async scratchPutRecord(record: R): Promise<void> {
    const [primaryKey, scores, bytes] = this.#prepare(record)
    const field = member(this.#book.staging, primaryKey)
    if (this.#book.stagedPuts.has(primaryKey)) {
      // Staged again: the earlier staged version's index members name its own row bytes.
      await this.#flush()
      await this.#remove('scratchPutRecord', [field])
    }
    this.#staged.add(field, scores, bytes)
    this.#book.stagedDiscards.delete(primaryKey)
    this.#book.stagedPuts.add(primaryKey)
    if (this.#staged.size >= PUT_BATCH) await this.#flush()
  }

  /** Stages the removal of visible and staged records the spec selects; resolves how many. */
  async scratchDiscardRecords(spec: StorageRecordsSpec<R>): Promise<number> {
    await this.#flush()
    const found = await this.#select(spec, this.#book.generation, true)
    let count = 0
    const dropped: string[] = []
    for (const candidate of found) {
      if (candidate.staged) continue
      if (!this.#book.stagedDiscards.has(candidate.primaryKey)) count++
      this.#book.stagedDiscards.add(candidate.primaryKey)
    }
    for (const candidate of found) {
      if (!candidate.staged) continue
      dropped.push(candidate.member)
      this.#book.stagedPuts.delete(candidate.primaryKey)
      if (!this.#book.stagedDiscards.has(candidate.primaryKey)) count++
    }
    if (dropped.length > 0) await this.#remove('scratchDiscardRecords', dropped)
    return count
  }

  /**
   * Makes every staged put and discard visible at once by bumping the generation, calling
   * `onVisible` in that step; superseded versions are removed in the background afterwards.
   */
  async scratchMerge(onVisible?: () => void): Promise<void> {
    try {
      await this.#flush()
    } catch (error) {
      this.#abandonScratch()
      throw error
    }
    if (this.#book.nothingStaged) {
      onVisible?.()
      return
    }
    this.#book.merge()
    onVisible?.()
    // A failed removal keeps its versions listed (invisible) for the next attempt.
    this.#collect().catch(() => undefined)
  }

  // Validates and encodes before anything is written: bad input writes nothing.
  #prepare(record: R): [string, number[], Buffer] {
    return prepareRow(this.#scorer, this.#codec, this.name, record)
  }

  // Removes stored versions (rows and index members) by field, in scripts of REMOVE_CHUNK.
  async #remove(operation: string, fields: readonly string[]): Promise<void> {
    const sent: Promise<unknown>[] = []
    for (let i = 0; i < fields.length; i += REMOVE_CHUNK) {
      const chunk = fields.slice(i, i + REMOVE_CHUNK)
      sent.push(this.#run(operation, () => removeVersions(this.#client, this.keys, chunk)))
    }
    await Promise.all(sent)
  }

  // The records the spec selects at `generation`. A request by key needs no range read: the live
  // versions are known here (and this part runs synchronously in the call, so they are the pinned
  // generation's); the spec selects exactly its keys, so no score is checked. It returns the
  // HMGET's promise chain without an async frame of its own (two promise steps fewer per read).
  #read(spec: StorageRecordsSpec<R>, generation: number): Promise<R[]> {
    const primaryKeys = spec.primaryKeys
    if (primaryKeys === undefined) return this.#readRange(spec, generation)
    const fields: string[] = []
    const found: string[] = []
    for (const primaryKey of primaryKeys) {
      const version = this.#book.live.get(primaryKey)
      if (version === undefined) continue
      fields.push(member(version, primaryKey))
      found.push(primaryKey)
    }
    if (fields.length === 0) return Promise.resolve([])
    return readRecords(this.#source, fields, spec.recheck, found).catch((error: unknown) => {
      throw toCellarError(error, 'getRecords')
    })
  }

  async #readRange(spec: StorageRecordsSpec<R>, generation: number): Promise<R[]> {
    const intervals = spec.scoreIntervals.filter(({ ge, lt }) => ge < lt)
    if (intervals.length === 0) return []
    const key = this.#indexKey(spec.indexName)
    const members = await this.#run('getRecords', () => rangeMembers(this.#client, key, intervals))
    try {
      return memberRecords(this.#codec, this.#book, members, generation, spec.recheck)
    } catch (error) {
      throw toCellarError(error, 'getRecords')
    }
  }

  // The versions the spec selects at `generation`; with `scratch`, staged versions of the next
  // generation come too (marked `staged`), for the scratch space's own bookkeeping.
  async #select(
    spec: StorageRecordsSpec<R>,
    generation: number,
    scratch: boolean,
  ): Promise<Candidate<R>[]> {
    const key = this.#indexKey(spec.indexName)
    // A request by key needs no range read: the live versions are known here (and this runs
    // synchronously in the call, so they are the pinned generation's). The spec selects exactly
    // its keys, so no score is checked.
    if (spec.primaryKeys !== undefined && !scratch) {
      const byKey: Candidate<R>[] = []
      for (const primaryKey of spec.primaryKeys) {
        const version = this.#book.live.get(primaryKey)
        if (version !== undefined)
          byKey.push({ member: member(version, primaryKey), primaryKey, staged: false })
      }
      return this.#rows(byKey, spec)
    }
    const intervals = spec.scoreIntervals.filter(({ ge, lt }) => ge < lt)
    if (intervals.length === 0) return []
    const members = await this.#run('getRecords', () => rangeMembers(this.#client, key, intervals))
    const candidates: Candidate<R>[] = []
    const recheck = spec.recheck
    for (const found of members) {
      const bounds = fieldBounds(found)
      if (bounds === undefined) continue
      const text = found.toString('utf8', bounds[0], bounds[1])
      const staged = this.#stagedOrVisible(text, generation, scratch)
      if (staged === undefined) continue
      const primaryKey = primaryKeyOf(text)
      // The member carries the row, so the recheck needs no read.
      if (recheck !== undefined) {
        try {
          if (!recheck(this.#codec.decodeAt(found, bounds[1], primaryKey))) continue
        } catch (error) {
          throw toCellarError(error, 'getRecords')
        }
      }
      candidates.push({ member: text, primaryKey, staged })
    }
    return candidates
  }

  // False when the version `text` shows at `generation`, true when it is staged for the next
  // one (and `scratch` asks for those), undefined when this read must skip it.
  #stagedOrVisible(text: string, generation: number, scratch: boolean): boolean | undefined {
    const [version, primaryKey] = parseMember(text)
    if (this.#book.visible(text, version, primaryKey, generation)) return false
    if (scratch && version === generation + 1 && this.#book.stagedPuts.has(primaryKey)) return true
    return undefined
  }

  // Reads the candidates' rows; keeps those still there that pass the recheck.
  async #rows(candidates: Candidate<R>[], spec: StorageRecordsSpec<R>): Promise<Candidate<R>[]> {
    if (candidates.length === 0) return candidates
    try {
      return await readRows(this.#source, candidates, spec.recheck)
    } catch (error) {
      throw toCellarError(error, 'getRecords')
    }
  }

  #indexKey(indexName: string): string {
    const key = this.#indexKeys.get(indexName)
    if (key === undefined) {
      throw new InvalidArgumentError(
        `[cellar:redis] storage table '${this.name}' has no index '${indexName}'`,
      )
    }
    return key
  }

  #leave(generation: number): void {
    if (this.#book.leave(generation)) this.#collect().catch(() => undefined)
  }

  // Removes superseded versions no running read can still see; a failure keeps them for later.
  #collect(): Promise<void> {
    if (this.#collecting !== undefined) {
      this.#collectAgain = true
      return this.#collecting
    }
    this.#collecting = (async () => {
      do {
        this.#collectAgain = false
        const doomed = this.#book.collectable()
        for (let i = 0; i < doomed.length; i += REMOVE_BATCH) {
          const batch = doomed.slice(i, i + REMOVE_BATCH)
          await this.#remove('scratchMerge', batch)
          for (const text of batch) this.#book.dead.delete(text)
        }
      } while (this.#collectAgain)
    })().finally(() => {
      this.#collecting = undefined
    })
    return this.#collecting
  }

  async #flush(): Promise<void> {
    if (this.#staged.size === 0) return
    const pipeline = this.#client.pipeline()
    this.#staged.drainInto(pipeline, this.#rowsKey, [...this.#indexKeys.values()])
    try {
      await this.#exec('scratchPutRecord', pipeline)
    } catch (error) {
      this.#abandonScratch()
      throw error
    }
  }

  #abandonScratch(): void {
    this.#book.abandon()
    this.#staged.clear()
  }

  async #exec(
    operation: string,
    commands: ChainableCommander,
  ): Promise<Array<[Error | null, unknown]>> {
    const results = await this.#run(operation, () => commands.exec())
    const failure = pipelineError(results)
    if (failure !== undefined) throw toCellarError(failure, operation)
    return results as Array<[Error | null, unknown]>
  }

  async #run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (error) {
      throw toCellarError(error, operation)
    }
  }
}
