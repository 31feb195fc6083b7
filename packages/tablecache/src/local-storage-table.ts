import { setImmediate as nextTurn } from 'node:timers/promises'
import type {
  RecordScorer,
  StorageRecordsSpec as StorageRecordsSpecShape,
  StorageTable,
} from '@cellar/core'
import BTreeModule from 'sorted-btree'
import { tableCacheError } from './errors.js'

// sorted-btree is CommonJS with `exports.default`; Node's ESM loader hands us module.exports.
const BTree: typeof BTreeModule =
  (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule

type IndexKey = readonly [score: number, primaryKey: string]

interface Entry<R> {
  readonly record: R
  readonly scores: readonly number[]
}

interface Version<R> {
  readonly rows: BTreeModule<string, Entry<R>>
  readonly indexes: readonly BTreeModule<IndexKey, R>[]
}

// A merge applies this many staged changes, then lets other work run before the next slice.
const MERGE_SLICE = 1_000

function compareKeys(a: IndexKey, b: IndexKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0
}

/** Options of `LocalStorageTable`. */
export interface LocalStorageTableOptions {
  /**
   * A name for messages and metrics.
   * @default 'local'
   */
  name?: string
}

/**
 * In-process `StorageTable`: one B+ tree (sorted-btree) per index keyed by (score, primary key).
 * Records are stored by reference — never mutate a record after handing it over. A read collects
 * its records in one synchronous walk. A merge applies the staged changes in slices to an O(1)
 * copy-on-write clone and then swaps it in, so reads keep running during a merge and see it
 * wholly or not at all; direct writes (`putRecord`, `deleteRecords`, `clear`) wait for it.
 */
export class LocalStorageTable<R> implements StorageTable<R> {
  readonly name: string
  readonly #scorer: RecordScorer<R>
  readonly #names: readonly string[]
  readonly #byName = new Map<string, number>()
  #current: Version<R>
  #merging: Promise<void> = Promise.resolve()
  readonly #scratchPuts = new Map<string, R>()
  readonly #scratchDiscards = new Set<string>()

  constructor(scorer: RecordScorer<R>, options: LocalStorageTableOptions = {}) {
    if (scorer.indexNames.length === 0) {
      throw tableCacheError('E_INVALID_SPEC', 'LocalStorageTable needs at least one index')
    }
    this.#scorer = scorer
    this.#names = [...scorer.indexNames]
    this.#names.forEach((name, i) => {
      this.#byName.set(name, i)
    })
    this.name = options.name ?? 'local'
    this.#current = this.#empty()
  }

  /** Removes every record and anything staged. */
  async clear(): Promise<void> {
    await this.#merging
    this.#current = this.#empty()
    this.#scratchPuts.clear()
    this.#scratchDiscards.clear()
  }

  /** Stores (or replaces, by primary key) a record. */
  async putRecord(record: R): Promise<void> {
    await this.#merging
    this.#put(this.#current, record)
  }

  /** Resolves the record with this primary key, or undefined. */
  async getRecord(primaryKey: string): Promise<R | undefined> {
    return this.#current.rows.get(primaryKey)?.record
  }

  /** The records the spec selects, collected synchronously when called. */
  getRecords(spec: StorageRecordsSpecShape<R>): Promise<R[]> {
    try {
      return Promise.resolve(matching(this.#current, this.#at(spec.indexName), spec))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Removes exactly the records `getRecords(spec)` would resolve; resolves how many. */
  async deleteRecords(spec: StorageRecordsSpecShape<R>): Promise<number> {
    await this.#merging
    const doomed = matching(this.#current, this.#at(spec.indexName), spec)
    for (const record of doomed) this.#remove(this.#current, this.#scorer.primaryKey(record))
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
    for (const record of matching(this.#current, this.#at(spec.indexName), spec)) {
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
   * Applies staged discards, then staged puts, to a clone in slices; swaps it in at once and
   * calls `onVisible` in that step.
   */
  scratchMerge(onVisible?: () => void): Promise<void> {
    const run = this.#merging.then(() => this.#merge(onVisible))
    this.#merging = run.catch(() => undefined)
    return run
  }

  async #merge(onVisible: (() => void) | undefined): Promise<void> {
    if (this.#scratchPuts.size === 0 && this.#scratchDiscards.size === 0) {
      onVisible?.()
      return
    }
    const discards = [...this.#scratchDiscards]
    const puts = [...this.#scratchPuts.values()]
    this.#scratchDiscards.clear()
    this.#scratchPuts.clear()
    const next: Version<R> = {
      rows: this.#current.rows.clone(),
      indexes: this.#current.indexes.map((tree) => tree.clone()),
    }
    let done = 0
    for (const key of discards) {
      this.#remove(next, key)
      if (++done % MERGE_SLICE === 0) await nextTurn()
    }
    for (const record of puts) {
      this.#put(next, record)
      if (++done % MERGE_SLICE === 0) await nextTurn()
    }
    this.#current = next
    onVisible?.()
  }

  #empty(): Version<R> {
    return {
      rows: new BTree<string, Entry<R>>(),
      indexes: this.#names.map(() => new BTree<IndexKey, R>(undefined, compareKeys)),
    }
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

  #put(version: Version<R>, record: R): void {
    const key = this.#scorer.primaryKey(record)
    this.#remove(version, key)
    const scores = this.#names.map((name) => this.#scorer.score(name, record))
    for (let i = 0; i < scores.length; i++) {
      ;(version.indexes[i] as BTreeModule<IndexKey, R>).set([scores[i] as number, key], record)
    }
    version.rows.set(key, { record, scores })
  }

  #remove(version: Version<R>, key: string): void {
    const entry = version.rows.get(key)
    if (entry === undefined) return
    for (let i = 0; i < entry.scores.length; i++) {
      ;(version.indexes[i] as BTreeModule<IndexKey, R>).delete([entry.scores[i] as number, key])
    }
    version.rows.delete(key)
  }
}

// A key below every primary key of its score: the low end of a range walk.
const LOWEST = ''

function matching<R>(version: Version<R>, at: number, spec: StorageRecordsSpecShape<R>): R[] {
  if (spec.primaryKeys !== undefined) return byKeys(version, at, spec, spec.primaryKeys)
  const tree = version.indexes[at] as BTreeModule<IndexKey, R>
  const out: R[] = []
  const recheck = spec.recheck
  const collect =
    recheck === undefined
      ? (_key: IndexKey, record: R) => {
          out.push(record)
        }
      : (_key: IndexKey, record: R) => {
          if (recheck(record)) out.push(record)
        }
  for (const { ge, lt } of spec.scoreIntervals) {
    if (ge < lt) tree.forRange([ge, LOWEST], [lt, LOWEST], false, collect)
  }
  return out
}

// A request by key: one lookup per key instead of one tree walk per (tiny) interval.
function byKeys<R>(
  version: Version<R>,
  at: number,
  spec: StorageRecordsSpecShape<R>,
  keys: readonly string[],
): R[] {
  const out: R[] = []
  const recheck = spec.recheck
  const intervals = [...spec.scoreIntervals].sort((a, b) => a.ge - b.ge)
  for (const key of keys) {
    const entry = version.rows.get(key)
    if (entry === undefined) continue
    if (!inside(intervals, entry.scores[at] as number)) continue
    if (recheck === undefined || recheck(entry.record)) out.push(entry.record)
  }
  return out
}

// Binary search in intervals sorted by `ge` (they do not overlap).
function inside(intervals: readonly { ge: number; lt: number }[], score: number): boolean {
  let lo = 0
  let hi = intervals.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const { ge, lt } = intervals[mid] as { ge: number; lt: number }
    if (score < ge) hi = mid - 1
    else if (score >= lt) lo = mid + 1
    else return true
  }
  return false
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
