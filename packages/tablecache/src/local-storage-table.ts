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
  readonly indexes: ReadonlyMap<string, BTreeModule<IndexKey, R>>
}

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
 * Records are stored by reference — never mutate a record after handing it over. A read pins the
 * current version; the next write works on an O(1) copy-on-write clone, so reads never wait for
 * or see half of a merge.
 */
export class LocalStorageTable<R> implements StorageTable<R> {
  readonly name: string
  readonly #scorer: RecordScorer<R>
  #current: Version<R>
  #pinned = false
  readonly #scratchPuts = new Map<string, R>()
  readonly #scratchDiscards = new Set<string>()

  constructor(scorer: RecordScorer<R>, options: LocalStorageTableOptions = {}) {
    if (scorer.indexNames.length === 0) {
      throw tableCacheError('E_INVALID_SPEC', 'LocalStorageTable needs at least one index')
    }
    this.#scorer = scorer
    this.name = options.name ?? 'local'
    this.#current = this.#empty()
  }

  /** Removes every record and anything staged. */
  async clear(): Promise<void> {
    this.#current = this.#empty()
    this.#pinned = false
    this.#scratchPuts.clear()
    this.#scratchDiscards.clear()
  }

  /** Stores (or replaces, by primary key) a record. */
  async putRecord(record: R): Promise<void> {
    this.#put(this.#writable(), record)
  }

  /** Resolves the record with this primary key, or undefined. */
  async getRecord(primaryKey: string): Promise<R | undefined> {
    return this.#current.rows.get(primaryKey)?.record
  }

  /** Streams the records the spec selects, from the version current when iteration starts. */
  async *getRecords(spec: StorageRecordsSpecShape<R>): AsyncGenerator<R, void, undefined> {
    // Runs synchronously on the first next(): the version is pinned before anything can write.
    const version = this.#current
    this.#pinned = true
    yield* matching(this.#tree(version, spec.indexName), spec)
  }

  /** Removes exactly the records `getRecords(spec)` would stream; resolves how many. */
  async deleteRecords(spec: StorageRecordsSpecShape<R>): Promise<number> {
    const tree = this.#tree(this.#current, spec.indexName)
    const doomed = [...matching(tree, spec)]
    const version = this.#writable()
    for (const record of doomed) this.#remove(version, this.#scorer.primaryKey(record))
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
    const tree = this.#tree(this.#current, spec.indexName)
    let count = 0
    for (const record of matching(tree, spec)) {
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

  /** Applies staged discards, then staged puts, in one synchronous step. */
  async scratchMerge(): Promise<void> {
    if (this.#scratchPuts.size === 0 && this.#scratchDiscards.size === 0) return
    const version = this.#writable()
    for (const key of this.#scratchDiscards) this.#remove(version, key)
    for (const record of this.#scratchPuts.values()) this.#put(version, record)
    this.#scratchDiscards.clear()
    this.#scratchPuts.clear()
  }

  #empty(): Version<R> {
    const indexes = new Map<string, BTreeModule<IndexKey, R>>()
    for (const name of this.#scorer.indexNames) {
      indexes.set(name, new BTree<IndexKey, R>(undefined, compareKeys))
    }
    return { rows: new BTree<string, Entry<R>>(), indexes }
  }

  #writable(): Version<R> {
    if (!this.#pinned) return this.#current
    const indexes = new Map<string, BTreeModule<IndexKey, R>>()
    for (const [name, tree] of this.#current.indexes) indexes.set(name, tree.clone())
    this.#current = { rows: this.#current.rows.clone(), indexes }
    this.#pinned = false
    return this.#current
  }

  #tree(version: Version<R>, indexName: string): BTreeModule<IndexKey, R> {
    const tree = version.indexes.get(indexName)
    if (tree === undefined) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `storage table '${this.name}' has no index '${indexName}'`,
      )
    }
    return tree
  }

  #put(version: Version<R>, record: R): void {
    const key = this.#scorer.primaryKey(record)
    this.#remove(version, key)
    const names = this.#scorer.indexNames
    const scores = names.map((name) => this.#scorer.score(name, record))
    names.forEach((name, i) => {
      version.indexes.get(name)?.set([scores[i] as number, key], record)
    })
    version.rows.set(key, { record, scores })
  }

  #remove(version: Version<R>, key: string): void {
    const entry = version.rows.get(key)
    if (entry === undefined) return
    this.#scorer.indexNames.forEach((name, i) => {
      version.indexes.get(name)?.delete([entry.scores[i] as number, key])
    })
    version.rows.delete(key)
  }
}

function* matching<R>(
  tree: BTreeModule<IndexKey, R>,
  spec: StorageRecordsSpecShape<R>,
): Generator<R, void, undefined> {
  for (const { ge, lt } of spec.scoreIntervals) {
    if (!(ge < lt)) continue
    for (const [[score], record] of tree.entries([ge, ''])) {
      if (score >= lt) break
      if (spec.recheck === undefined || spec.recheck(record)) yield record
    }
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
