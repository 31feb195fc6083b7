import type { DbAccess, Indexes, IndexSpec, StorageRecordsSpec, StorageTable } from '@cellar/core'
import { RecordNotFoundError, tableCacheError } from './errors.js'
import { InvalidBatch } from './invalid-batch.js'
import { LocalStorageTable } from './local-storage-table.js'
import { RecordsIterator } from './records-iterator.js'

/** How a read was served: from storage, from storage after a refresh, or from the DB. */
export type ReadKind = 'hit' | 'hitWithRefresh' | 'miss'

/** Hooks for metrics exporters (Prometheus, OpenTelemetry); each is optional and must not throw. */
export interface TableCacheMetrics {
  /** One read began, served as `kind`. */
  read?(kind: ReadKind, indexName: string): void
  /** A refresh of invalid records finished, having reloaded `records` records. */
  refreshed?(records: number): void
  /** An adjustment (or the load) finished. */
  adjusted?(indexName: string): void
  /** Records entered storage through a load, adjustment or refresh. */
  recordsLoaded?(count: number): void
  /** Records left storage through an adjustment or refresh. */
  recordsExpired?(count: number): void
}

/** Options of `CachedTable`. */
export interface CachedTableOptions {
  /** Metrics hooks. */
  metrics?: TableCacheMetrics
}

/** Options of `CachedTable#invalidateRecords`. */
export interface InvalidateOptions {
  /**
   * Refresh before the next read of any kind, not only before a read that touches invalid records.
   * @default false
   */
  forceRefreshOnNextRead?: boolean
}

/**
 * A cached subset of a DB table: reads are served from storage when the indexes cover them and
 * nothing they touch is invalid, else entirely from the DB. One `CachedTable` must own its
 * storage table; it is not coordinated across processes.
 */
export class CachedTable<R, Q = unknown> {
  readonly #indexes: Indexes<R, Q>
  readonly #db: DbAccess<R, Q>
  readonly #storage: StorageTable<R>
  // The storage's synchronous read, when it declares one.
  readonly #readSync: ((spec: StorageRecordsSpec<R>) => readonly R[]) | undefined
  // True when every array the storage hands out is a new one (`LocalStorageTable`), so that
  // `collectRecords` may give it to the caller without a copy.
  readonly #freshArrays: boolean
  readonly #metrics: TableCacheMetrics
  readonly #loaded: Promise<void>
  #resolveLoaded!: () => void
  #loadStarted = false
  #isLoaded = false
  #pending = new InvalidBatch<R, Q>()
  #refreshing: InvalidBatch<R, Q> | undefined
  #refreshingDone: Promise<void> | undefined
  #scheduled: Promise<void> | undefined
  #forceRefresh = false
  #lock: Promise<void> = Promise.resolve()

  constructor(
    indexes: Indexes<R, Q>,
    dbAccess: DbAccess<R, Q>,
    storageTable: StorageTable<R>,
    options: CachedTableOptions = {},
  ) {
    this.#indexes = indexes
    this.#db = dbAccess
    this.#storage = storageTable
    this.#readSync =
      storageTable.synchronous === true && storageTable.getRecordsSync !== undefined
        ? storageTable.getRecordsSync.bind(storageTable)
        : undefined
    this.#freshArrays = storageTable instanceof LocalStorageTable
    this.#metrics = options.metrics ?? {}
    this.#loaded = new Promise((resolve) => {
      this.#resolveLoaded = resolve
    })
  }

  /** Clears storage and loads what `spec` asks for; a second call rejects with `E_ALREADY_LOADED`. */
  async load(spec: IndexSpec): Promise<void> {
    if (this.#loadStarted) {
      throw tableCacheError('E_ALREADY_LOADED', `table '${this.#storage.name}' is already loaded`)
    }
    this.#loadStarted = true
    try {
      await this.#storage.clear()
      await this.#exclusive(() => this.#applyAdjustment(spec))
    } catch (error) {
      this.#loadStarted = false
      throw error
    }
    this.#isLoaded = true
    this.#resolveLoaded()
  }

  /** Resolves once `load` has finished. */
  loaded(): Promise<void> {
    return this.#loaded
  }

  /**
   * Streams the records `spec` asks for (after the load): from storage when covered, refreshing
   * invalid records first; otherwise every record from the DB, never a mix.
   */
  getRecords(spec: IndexSpec): AsyncIterable<R> {
    return { [Symbol.asyncIterator]: () => new RecordsIterator(() => this.#start(spec)) }
  }

  /** Resolves every record `getRecords(spec)` streams, as one array (fewer promise hops). */
  collectRecords(spec: IndexSpec): Promise<R[]> {
    let found: readonly R[] | Promise<readonly R[] | AsyncIterable<R>>
    try {
      found = this.#start(spec)
    } catch (error) {
      return Promise.reject(error)
    }
    if (Array.isArray(found)) return Promise.resolve(this.#own(found))
    // A plain callback: an array comes back without another promise to adopt.
    return (found as Promise<readonly R[] | AsyncIterable<R>>).then((result) =>
      Array.isArray(result) ? this.#own(result) : collect(result as AsyncIterable<R>),
    )
  }

  // An array of the storage's the caller may change.
  #own(records: readonly R[]): R[] {
    return this.#freshArrays ? (records as R[]) : records.slice()
  }

  /**
   * The records `getRecords(spec)` would stream, without a promise, when storage answers
   * synchronously (`LocalStorageTable`) and the read is a plain hit: loaded, covered, nothing it
   * touches invalid. Otherwise undefined (nothing is read): then use `collectRecords` or
   * `getRecords`, which refresh first or read the DB. Throws `E_INVALID_SPEC` on a bad spec. The
   * records are the stored ones: don't mutate them.
   */
  peekRecords(spec: IndexSpec): readonly R[] | undefined {
    return this.#isLoaded && this.#readSync !== undefined ? this.#hitSync(spec) : undefined
  }

  /** Resolves the first record `getRecords(spec)` streams; rejects with `E_RECORD_NOT_FOUND` if none. */
  async getFirstRecord(spec: IndexSpec): Promise<R> {
    const found = await this.#start(spec)
    if (Array.isArray(found)) {
      if (found.length > 0) return found[0] as R
    } else {
      for await (const record of found as AsyncIterable<R>) return record
    }
    throw new RecordNotFoundError(`no record matches ${JSON.stringify(spec)}`)
  }

  // A plain hit is answered at once: as an array from synchronous storage, or as the storage's
  // own promise (no async frame around it, whose promise would have to adopt the storage's).
  // Anything else (not loaded yet, not covered, a refresh due) goes through `#read`.
  #start(spec: IndexSpec): readonly R[] | Promise<readonly R[] | AsyncIterable<R>> {
    if (this.#isLoaded) {
      if (this.#readSync !== undefined) {
        const records = this.#hitSync(spec)
        if (records !== undefined) return records
      } else {
        if (!this.#indexes.covers(spec)) return Promise.resolve(this.#miss(spec))
        const storageSpec = this.#indexes.storageRecordsSpec(spec)
        if (this.#needsRefresh(storageSpec)) return this.#read(spec, storageSpec)
        const records = this.#storage.getRecords(storageSpec)
        this.#metrics.read?.('hit', spec.indexName)
        return records
      }
    }
    return this.#read(spec)
  }

  // Coverage, the refresh check and the read happen in one synchronous step: no merge can come
  // between them.
  #hitSync(spec: IndexSpec): readonly R[] | undefined {
    if (!this.#indexes.covers(spec)) return undefined
    const storageSpec = this.#indexes.storageRecordsSpec(spec)
    if (this.#needsRefresh(storageSpec)) return undefined
    const records = (this.#readSync as (spec: StorageRecordsSpec<R>) => readonly R[])(storageSpec)
    this.#metrics.read?.('hit', spec.indexName)
    return records
  }

  // Storage hits resolve to the stored records; misses to the DB stream. `checked`: the storage
  // spec of a request found covered (and due for a refresh) in this same step.
  async #read(
    spec: IndexSpec,
    checked?: StorageRecordsSpec<R>,
  ): Promise<readonly R[] | AsyncIterable<R>> {
    if (!this.#isLoaded) await this.#loaded
    let refreshed = false
    for (;;) {
      let storageSpec = checked
      checked = undefined
      if (storageSpec === undefined) {
        if (!this.#indexes.covers(spec)) return this.#miss(spec)
        storageSpec = this.#indexes.storageRecordsSpec(spec)
      }
      if (this.#needsRefresh(storageSpec)) {
        await this.refreshInvalid()
        refreshed = true
        continue
      }
      // Coverage check and the storage read (which pins its view when called) happen in one
      // synchronous step, so an adjustment can't slip its merge in between.
      const records = this.#storage.getRecords(storageSpec)
      this.#metrics.read?.(refreshed ? 'hitWithRefresh' : 'hit', spec.indexName)
      return records
    }
  }

  #miss(spec: IndexSpec): AsyncIterable<R> {
    this.#metrics.read?.('miss', spec.indexName)
    return this.#db.getRecords(this.#indexes.dbRecordsSpec(spec))
  }

  /**
   * Marks records invalid: `oldSpecs` say where changed records were, `newSpecs` where they are
   * now (each list non-empty, one spec per index, new specs covered). Indexes without a spec
   * become dirty: any read on them refreshes first.
   */
  invalidateRecords(
    oldSpecs: readonly IndexSpec[],
    newSpecs: readonly IndexSpec[],
    options: InvalidateOptions = {},
  ): void {
    if (!this.#isLoaded) {
      throw tableCacheError('E_NOT_LOADED', `table '${this.#storage.name}' is not loaded yet`)
    }
    checkSpecList('oldSpecs', oldSpecs)
    checkSpecList('newSpecs', newSpecs)
    for (const spec of newSpecs) {
      if (!this.#indexes.covers(spec)) {
        throw tableCacheError(
          'E_NOT_COVERED',
          `new spec ${JSON.stringify(spec)} is not covered by what is loaded`,
        )
      }
    }
    const batch = new InvalidBatch<R, Q>()
    const named = new Set<string>()
    for (const spec of oldSpecs) {
      const storageSpec = this.#indexes.storageRecordsSpec(spec)
      batch.discards.push(storageSpec)
      batch.markIntervals(storageSpec)
      batch.reloads.push(this.#indexes.dbRecordsSpec(spec))
      named.add(spec.indexName)
    }
    for (const spec of newSpecs) {
      batch.markIntervals(this.#indexes.storageRecordsSpec(spec))
      batch.reloads.push(this.#indexes.dbRecordsSpec(spec))
      named.add(spec.indexName)
    }
    for (const name of this.#indexes.indexNames) if (!named.has(name)) batch.markDirty(name)
    this.#pending.absorb(batch)
    if (options.forceRefreshOnNextRead === true) this.#forceRefresh = true
  }

  /** Refreshes every invalid record from the DB; concurrent callers share one refresh. */
  async refreshInvalid(): Promise<void> {
    for (;;) {
      if (this.#scheduled !== undefined) {
        await this.#scheduled
        continue
      }
      if (this.#refreshingDone !== undefined) {
        await this.#refreshingDone
        continue
      }
      if (this.#pending.isEmpty) return
      this.#scheduled = this.#exclusive(() => this.#refreshLocked()).finally(() => {
        this.#scheduled = undefined
      })
    }
  }

  /**
   * Replaces what is loaded with what `spec` asks for, through the storage's scratch space:
   * readers see the old set or the new one. Pending invalid records are refreshed first.
   */
  async adjust(spec: IndexSpec): Promise<void> {
    if (!this.#isLoaded) {
      throw tableCacheError('E_NOT_LOADED', `table '${this.#storage.name}' is not loaded yet`)
    }
    await this.refreshInvalid()
    await this.#exclusive(async () => {
      await this.#refreshLocked()
      await this.#applyAdjustment(spec)
    })
  }

  #needsRefresh(spec: StorageRecordsSpec<R>): boolean {
    // Nothing invalid, the usual case: no index name looked up.
    if (this.#refreshing === undefined && this.#pending.isEmpty) return false
    if (this.#forceRefresh && !this.#pending.isEmpty) return true
    return this.#pending.touches(spec) || (this.#refreshing?.touches(spec) ?? false)
  }

  // Scratch space is shared: refreshes and adjustments take turns.
  #exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(task)
    this.#lock = run.catch(() => undefined)
    return run
  }

  async #refreshLocked(): Promise<void> {
    if (this.#pending.isEmpty) return
    const batch = this.#pending
    this.#pending = new InvalidBatch()
    this.#forceRefresh = false
    let done!: () => void
    this.#refreshing = batch
    this.#refreshingDone = new Promise((resolve) => {
      done = resolve
    })
    try {
      let expired = 0
      for (const spec of batch.discards) expired += await this.#storage.scratchDiscardRecords(spec)
      let loaded = 0
      for (const spec of batch.reloads) {
        for await (const record of this.#db.getRecords(spec)) {
          await this.#storage.scratchPutRecord(record)
          loaded++
        }
      }
      await this.#storage.scratchMerge()
      this.#metrics.recordsExpired?.(expired)
      this.#metrics.recordsLoaded?.(loaded)
      this.#metrics.refreshed?.(loaded)
    } catch (error) {
      batch.absorb(this.#pending)
      this.#pending = batch
      throw error
    } finally {
      this.#refreshing = undefined
      this.#refreshingDone = undefined
      done()
    }
  }

  async #applyAdjustment(spec: IndexSpec): Promise<void> {
    const adjustment = this.#indexes.prepareAdjustment(spec)
    let expired = 0
    let loaded = 0
    if (adjustment.expireSpec !== undefined) {
      if (adjustment.observeExpired !== undefined) {
        for (const record of await this.#storage.getRecords(adjustment.expireSpec)) {
          adjustment.observeExpired(record)
        }
      }
      expired = await this.#storage.scratchDiscardRecords(adjustment.expireSpec)
    }
    if (adjustment.newSpec !== undefined) {
      for await (const record of this.#db.getRecords(adjustment.newSpec)) {
        await this.#storage.scratchPutRecord(record)
        adjustment.observeLoaded?.(record)
        loaded++
      }
    }
    // The new coverage takes effect in the very step the merged records become visible, so a
    // read checks coverage and pins its storage view against the same state.
    await this.#storage.scratchMerge(() => this.#indexes.commitAdjustment(adjustment))
    this.#metrics.recordsExpired?.(expired)
    this.#metrics.recordsLoaded?.(loaded)
    this.#metrics.adjusted?.(spec.indexName)
  }
}

async function collect<R>(stream: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = []
  for await (const record of stream) out.push(record)
  return out
}

function checkSpecList(label: string, specs: readonly IndexSpec[]): void {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw tableCacheError('E_INVALID_SPEC', `${label} must be a non-empty list of index specs`)
  }
  const seen = new Set<string>()
  for (const spec of specs) {
    if (seen.has(spec.indexName)) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `${label} has two specs for index '${spec.indexName}'`,
      )
    }
    seen.add(spec.indexName)
  }
}
