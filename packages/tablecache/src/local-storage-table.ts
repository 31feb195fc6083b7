import { setImmediate as nextTurn } from 'node:timers/promises'
import type {
  RecordScorer,
  StorageRecordsSpec as StorageRecordsSpecShape,
  StorageTable,
} from '@cellar/core'
import { tableCacheError } from './errors.js'
import type { PrimaryKey } from './primary-key-indexes.js'
import { keyScoredIndexOf } from './range-indexes.js'
import { lookupKeysOf, rangeGeOf, rangeLtOf } from './records-spec.js'
import { DENSE_LIMIT, numberRowKey, type RowKey, RowMap, rowKey } from './row-map.js'
import {
  emptyIndex,
  indexBetween,
  indexPut,
  indexRange,
  indexRemove,
  type ScoreIndex,
} from './score-index.js'

type Index<R> = ScoreIndex<R>

// Row changes by row key; `undefined` marks a removal.
type Changes<R> = Map<RowKey, R | undefined>

// A merge applies this many staged changes, then lets other work run before the next slice.
const MERGE_SLICE = 1_000

// The widest range of the key-scored index read from the row array: a slot per integer in the
// range, held or not (a hole costs a read of a contiguous array, a tree leaf its node misses).
const KEY_SPAN = 4_096

/** Options of `LocalStorageTable`. */
export interface LocalStorageTableOptions {
  /**
   * A name for messages and metrics.
   * @default 'local'
   */
  name?: string
}

/**
 * In-process `StorageTable`: one B+ tree (sorted-btree) per index keyed by score (records sharing
 * a score grouped by primary key), and a map of records by primary key (an array for integer keys). Records are stored by reference — never mutate a record
 * after handing it over. Reads are synchronous (`getRecordsSync`; `getRecords` resolves the same
 * records), so a read never sees a merge half-done. A merge applies the staged changes in slices
 * to O(1) copy-on-write clones of the index trees while the row changes collect aside, then swaps
 * the trees in and lays the row changes over the map, in one step; the changes are folded into
 * the map in slices afterwards. Reads keep running throughout. Direct writes (`putRecord`,
 * `deleteRecords`, `clear`) wait for a merge and its fold. Every read returns a new array.
 */
export class LocalStorageTable<R> implements StorageTable<R> {
  readonly name: string
  /** Reads are answered in-process: `getRecordsSync` is available. */
  readonly synchronous = true
  readonly #scorer: RecordScorer<R>
  readonly #primaryKey: (record: R) => string
  readonly #names: readonly string[]
  readonly #byName = new Map<string, number>()
  #indexes: readonly Index<R>[]
  // Records by row key. Their index scores are not kept: a stored record never changes, so its
  // scores are computed again when it is removed.
  readonly #rows = new RowMap<R>()
  // Row changes of the visible version not yet folded into #rows; they take precedence.
  #overlay: Changes<R> | undefined
  #merging: Promise<void> = Promise.resolve()
  readonly #scratchPuts = new Map<string, R>()
  readonly #scratchDiscards = new Set<string>()
  // The position of the index whose score is the record's integer primary key (the row key), or
  // -1: a short range of it is read from the row array, one slot per key, instead of the tree.
  readonly #keyScored: number

  constructor(scorer: RecordScorer<R>, options: LocalStorageTableOptions = {}) {
    if (scorer.indexNames.length === 0) {
      throw tableCacheError('E_INVALID_SPEC', 'LocalStorageTable needs at least one index')
    }
    this.#scorer = scorer
    this.#primaryKey = (record) => scorer.primaryKey(record)
    this.#names = [...scorer.indexNames]
    this.#names.forEach((name, i) => {
      this.#byName.set(name, i)
    })
    this.name = options.name ?? 'local'
    this.#indexes = this.#emptyIndexes()
    const keyScoredName = keyScoredIndexOf(scorer)
    this.#keyScored = keyScoredName === undefined ? -1 : (this.#byName.get(keyScoredName) ?? -1)
  }

  /** Removes every record and anything staged. */
  async clear(): Promise<void> {
    await this.#idle()
    this.#indexes = this.#emptyIndexes()
    this.#rows.clear()
    this.#scratchPuts.clear()
    this.#scratchDiscards.clear()
  }

  /** Stores (or replaces, by primary key) a record. */
  async putRecord(record: R): Promise<void> {
    await this.#idle()
    const changes: Changes<R> = new Map()
    this.#put(this.#indexes, changes, record)
    this.#apply(changes)
  }

  /** Resolves the record with this primary key, or undefined. */
  async getRecord(primaryKey: string): Promise<R | undefined> {
    return this.#entry(rowKey(primaryKey))
  }

  /** The records the spec selects, collected synchronously when called. */
  getRecords(spec: StorageRecordsSpecShape<R>): Promise<R[]> {
    try {
      return Promise.resolve(this.getRecordsSync(spec))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `getRecords` without a promise: the records the spec selects in the visible version. */
  getRecordsSync(spec: StorageRecordsSpecShape<R>): R[] {
    const at = this.#at(spec.indexName)
    const lookup = lookupKeysOf(spec)
    if (lookup !== undefined) return this.#lookUp(lookup)
    const keys = spec.primaryKeys
    if (keys !== undefined) return this.#byKeys(keys, spec.recheck)
    const index = this.#indexes[at] as Index<R>
    const ge = rangeGeOf(spec)
    if (Number.isNaN(ge)) return indexRange(index, spec)
    const lt = rangeLtOf(spec)
    if (at === this.#keyScored && this.#overlay === undefined && this.#rows.walkable) {
      // Every record is in the row array under its score: the integers of [ge, lt) name them all.
      const from = Math.max(0, Math.ceil(ge))
      const to = Math.min(lt, DENSE_LIMIT)
      if (to - from <= KEY_SPAN) {
        const found = from < to ? this.#rows.keySpan(from, to) : []
        return spec.recheck === undefined ? found : found.filter(spec.recheck)
      }
    }
    return indexBetween(index, ge, lt, spec.recheck)
  }

  /** Removes exactly the records `getRecords(spec)` would resolve; resolves how many. */
  async deleteRecords(spec: StorageRecordsSpecShape<R>): Promise<number> {
    await this.#idle()
    const doomed = this.getRecordsSync(spec)
    const changes: Changes<R> = new Map()
    for (const record of doomed)
      this.#remove(this.#indexes, changes, this.#scorer.primaryKey(record))
    this.#apply(changes)
    return doomed.length
  }

  /** Stages a put; a staged discard of the same primary key is undone. */
  async scratchPutRecord(record: R): Promise<void> {
    const key = this.#scorer.primaryKey(record)
    this.#scratchDiscards.delete(key)
    this.#scratchPuts.set(key, record)
  }

  /** Stages the removal of stored and staged records the spec selects; resolves how many. */
  async scratchDiscardRecords(spec: StorageRecordsSpecShape<R>): Promise<number> {
    let count = 0
    for (const record of this.getRecordsSync(spec)) {
      const key = this.#scorer.primaryKey(record)
      if (this.#scratchDiscards.has(key)) continue
      this.#scratchDiscards.add(key)
      count++
    }
    for (const [key, record] of this.#scratchPuts) {
      if (!specMatches(this.#scorer, spec, record)) continue
      this.#scratchPuts.delete(key)
      if (!this.#scratchDiscards.has(key)) count++
    }
    return count
  }

  /**
   * Applies staged discards, then staged puts, to clones in slices; swaps them in at once and
   * calls `onVisible` in that step. Resolves then; the row map is tidied in the background.
   */
  scratchMerge(onVisible?: () => void): Promise<void> {
    let folded: Promise<void> = Promise.resolve()
    const run = this.#merging.then(async () => {
      ;({ folded } = await this.#merge(onVisible))
    })
    this.#merging = run.then(
      () => folded,
      () => undefined,
    )
    return run
  }

  // Resolves once the new version is visible, with the fold that follows (not awaited here).
  async #merge(onVisible: (() => void) | undefined): Promise<{ folded: Promise<void> }> {
    if (this.#scratchPuts.size === 0 && this.#scratchDiscards.size === 0) {
      onVisible?.()
      return { folded: Promise.resolve() }
    }
    const discards = [...this.#scratchDiscards]
    const puts = [...this.#scratchPuts.values()]
    this.#scratchDiscards.clear()
    this.#scratchPuts.clear()
    const indexes = this.#indexes.map((tree) => tree.clone())
    const changes: Changes<R> = new Map()
    let done = 0
    for (const key of discards) {
      this.#remove(indexes, changes, key)
      if (++done % MERGE_SLICE === 0) await nextTurn()
    }
    for (const record of puts) {
      this.#put(indexes, changes, record)
      if (++done % MERGE_SLICE === 0) await nextTurn()
    }
    this.#indexes = indexes
    this.#overlay = changes
    onVisible?.()
    return { folded: this.#fold(changes) }
  }

  // Moves the overlay's changes into the row map in slices; reads see the same rows throughout.
  async #fold(changes: Changes<R>): Promise<void> {
    let done = 0
    for (const [key, record] of changes) {
      if (record === undefined) this.#rows.delete(key)
      else this.#rows.set(key, record)
      changes.delete(key)
      if (++done % MERGE_SLICE === 0) await nextTurn()
    }
    if (this.#overlay === changes) this.#overlay = undefined
  }

  // Waits until no merge or fold runs (one may start while waiting for another).
  async #idle(): Promise<void> {
    let merging: Promise<void>
    do {
      merging = this.#merging
      await merging
    } while (merging !== this.#merging)
  }

  #entry(key: RowKey): R | undefined {
    const overlay = this.#overlay
    if (overlay?.has(key)) return overlay.get(key)
    return this.#rows.get(key)
  }

  #apply(changes: Changes<R>): void {
    for (const [key, record] of changes) {
      if (record === undefined) this.#rows.delete(key)
      else this.#rows.set(key, record)
    }
  }

  #emptyIndexes(): Index<R>[] {
    return this.#names.map(() => emptyIndex<R>())
  }

  #at(indexName: string): number {
    const at = this.#byName.get(indexName)
    if (at === undefined) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `storage table '${this.name}' has no index '${indexName}'`,
      )
    }
    return at
  }

  #put(indexes: readonly Index<R>[], changes: Changes<R>, record: R): void {
    const key = this.#scorer.primaryKey(record)
    const row = this.#remove(indexes, changes, key)
    for (let i = 0; i < this.#names.length; i++) {
      const score = this.#scorer.score(this.#names[i] as string, record)
      indexPut(indexes[i] as Index<R>, score, key, record, this.#primaryKey)
    }
    changes.set(row, record)
  }

  // Unindexes the current record of `key` (a change made in this pass first, then the visible
  // rows) and records its removal; returns the row key.
  #remove(indexes: readonly Index<R>[], changes: Changes<R>, key: string): RowKey {
    const row = rowKey(key)
    const record = changes.has(row) ? changes.get(row) : this.#entry(row)
    if (record === undefined) return row
    for (let i = 0; i < this.#names.length; i++) {
      const score = this.#scorer.score(this.#names[i] as string, record)
      indexRemove(indexes[i] as Index<R>, score, key, this.#primaryKey)
    }
    changes.set(row, undefined)
    return row
  }

  // A request by key: one hash lookup per key instead of one tree walk per (tiny) interval. The
  // spec selects exactly those keys (their scores lie in its intervals), so no score is checked.
  #byKeys(keys: readonly string[], recheck: ((record: R) => boolean) | undefined): R[] {
    const out: R[] = []
    for (let i = 0; i < keys.length; i++) {
      const record = this.#entry(rowKey(keys[i] as string))
      if (record !== undefined && (recheck === undefined || recheck(record))) out.push(record)
    }
    return out
  }

  // A key spec built by this package (`keysStorageSpec`): its keys as the request gave them, no
  // repeats. A record found under a key has that primary key (row keys are one-to-one with
  // primary keys), which is all the spec's recheck tests, so the recheck is not called.
  #lookUp(keys: readonly PrimaryKey[]): R[] {
    // Sized once rather than grown by pushes; trimmed when some key has no record.
    const out: R[] = new Array(keys.length)
    let found = 0
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as PrimaryKey
      const record = this.#entry(typeof key === 'number' ? numberRowKey(key) : rowKey(key))
      if (record !== undefined) out[found++] = record
    }
    if (found < out.length) out.length = found
    return out
  }
}

function specMatches<R>(
  scorer: RecordScorer<R>,
  spec: StorageRecordsSpecShape<R>,
  record: R,
): boolean {
  const score = scorer.score(spec.indexName, record)
  const inside = spec.scoreIntervals.some(({ ge, lt }) => ge <= score && score < lt)
  return inside && (spec.recheck === undefined || spec.recheck(record))
}
