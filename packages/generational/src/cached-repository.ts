import {
  type CacheGateway,
  type CellarError,
  InvalidArgumentError,
  type Ttl,
  UnsupportedError,
} from '@cellar/core'
import { EntityEntries } from './entity-entries.js'
import { generationalError } from './errors.js'
import type { RepositoryEvent, RepositoryEventListener, RepositoryReadKind } from './events.js'
import { canonical, rememberedHash, stableHash } from './hash.js'
import { entityKey, listKey, queryKey } from './keys.js'
import { RecentFingerprints } from './recent.js'
import type {
  CursorPage,
  EntityId,
  ListResult,
  OffsetPage,
  Repository,
  WriteOptions,
} from './repository.js'
import type { DependencyResolver } from './resolver.js'
import { SingleFlight } from './single-flight.js'
import {
  type DependencySpec,
  dependencyListTags,
  listTags,
  parseDependencies,
  writeTags,
} from './tags.js'

/** Options of `new CachedRepository(repository, options)`. */
export interface CachedRepositoryOptions {
  /** The data gateway: entities, list pages and query results live there. */
  data: CacheGateway
  /** Generation counters (or version tokens) on the counter gateway. */
  resolver: DependencyResolver
  /**
   * `"child:fk"` specs: this entity's entries also depend on the child entity's writes (a
   * category depends on `"product:category_id"`). A malformed spec throws `E_INVALID_DEPENDENCY`.
   * @default []
   */
  dependsOn?: readonly string[]
  /**
   * The bind group (shard, replica or tenant routing) in every key, lists included; a read
   * may override it.
   * @default 'default'
   */
  bindGroup?: string
  /** TTL of cached entities. @default the data store's default */
  ttl?: Ttl
  /** TTL of cached list pages and query results. @default `ttl` */
  listTtl?: Ttl
  /**
   * Most ids per `getByIds` call when a list refills entities missing from the cache.
   * @default 500
   */
  refillBatchSize?: number
}

/** Options of a cached read. */
export interface ReadOptions {
  /** The bind group of this read (else the repository's). */
  readonly bindGroup?: string
}

// A cached page; `fingerprints` (of its entities) lets a hit fetch them with their counters.
interface ListIndex {
  ids: EntityId[]
  fingerprints?: string[]
  total?: number
  nextCursor?: string | null
}
const RECENT_BASES = 10_000 // key bases whose last fingerprint is kept as a guess

function isCursorPage(page: OffsetPage | CursorPage): page is CursorPage {
  return 'cursor' in page || !('page' in page)
}

/**
 * Cache-aside over a `Repository`, invalidated by generations instead of by key: every key holds
 * the fingerprint of the tags it depends on, computed before the load, so a write only bumps
 * counters (`O(1)` per tag) and every dependent entry stops being reachable. Writes bump after
 * they commit — inside a transaction, only once it commits, never on rollback.
 */
export class CachedRepository<
  T,
  Id extends EntityId = EntityId,
  Create = Partial<T>,
  Update = Partial<T>,
> {
  readonly #inner: Repository<T, Id, Create, Update>
  readonly #data: CacheGateway
  readonly #resolver: DependencyResolver
  readonly #dependencies: readonly DependencySpec[]
  readonly #bindGroup: string
  readonly #ttl: Ttl
  readonly #listTtl: Ttl
  readonly #entities: EntityEntries<T, Id>
  readonly #recent = new RecentFingerprints(RECENT_BASES)
  // Guess fingerprints only where a data read costs a round trip (not an in-process store).
  readonly #speculate: boolean
  readonly #flight = new SingleFlight()
  readonly #listeners: RepositoryEventListener[] = []
  readonly #pending = new Set<Promise<void>>()

  constructor(repository: Repository<T, Id, Create, Update>, options: CachedRepositoryOptions) {
    this.#dependencies = parseDependencies(options.dependsOn ?? [])
    const refill = options.refillBatchSize ?? 500
    if (!Number.isSafeInteger(refill) || refill < 1) {
      throw new InvalidArgumentError(
        '[cellar:generational] refillBatchSize must be a positive integer',
      )
    }
    this.#inner = repository
    this.#data = options.data
    this.#resolver = options.resolver
    this.#bindGroup = options.bindGroup ?? 'default'
    this.#ttl = options.ttl
    this.#listTtl = options.listTtl === undefined ? options.ttl : options.listTtl
    this.#speculate = options.data.store.capabilities.synchronous !== true
    this.#entities = new EntityEntries({
      repository,
      data: options.data,
      resolver: options.resolver,
      dependencies: this.#dependencies,
      ttl: options.ttl,
      refillBatch: refill,
    })
  }

  /** The entity name of the wrapped repository. */
  get entity(): string {
    return this.#inner.entity
  }

  /** Adds an event listener; resolves a function that removes it. */
  on(listener: RepositoryEventListener): () => void {
    this.#listeners.push(listener)
    return () => {
      const at = this.#listeners.indexOf(listener)
      if (at !== -1) this.#listeners.splice(at, 1)
    }
  }

  /** The tags an entity entry of `id` depends on (its own and its dependencies'). */
  entityTags(id: Id): string[] {
    return this.#entities.tags(id)
  }

  /** The tags a list or query entry with filter hash `filterHash` depends on. */
  listTags(filterHash: string): string[] {
    return [...listTags(this.entity, filterHash), ...dependencyListTags(this.#dependencies)]
  }

  /** The entity, from the cache or the repository; `null` (never cached) when it is missing. */
  async getById(id: Id, options?: ReadOptions): Promise<T | null> {
    const base = entityKey(this.entity, this.#bind(options), id, '')
    const { key, value: cached } = await this.#read<T>(base, this.entityTags(id))
    if (cached !== undefined) {
      this.#emit({ type: 'hit', kind: 'entity', key })
      return cached
    }
    this.#emit({ type: 'miss', kind: 'entity', key })
    return this.#flight.run(key, async () => {
      const loaded = await this.#inner.getById(id)
      if (loaded !== null && loaded !== undefined) await this.#data.setValue(key, loaded, this.#ttl)
      return loaded ?? null
    })
  }

  /**
   * One page of entities. A hit reads the page's ids, then every entity in one `getMany`, and
   * refills missing ones with `getByIds`; an id that no longer exists makes the page a miss.
   * Cursor pages after the first and filters without a stable hash are not cached.
   */
  async list(
    page: OffsetPage | CursorPage,
    filters?: unknown,
    options?: ReadOptions,
  ): Promise<ListResult<T>> {
    if (isCursorPage(page) && page.cursor !== undefined && page.cursor !== null) {
      this.#emit({ type: 'bypass', kind: 'list', reason: 'only the first cursor page is cached' })
      return this.#inner.list(page, filters)
    }
    const filterText = canonical(filters ?? null)
    const pageText = canonical(page)
    if (filterText === undefined || pageText === undefined) {
      this.#uncacheable('list', 'the filters have no stable hash')
      return this.#inner.list(page, filters)
    }
    const filterHash = rememberedHash(filterText)
    // stableHash({ filters, page }) without encoding the filters twice.
    const pageHash = rememberedHash(`{"filters":${filterText},"page":${pageText}}`)
    const tags = this.listTags(filterHash)
    const bind = this.#bind(options)
    const base = listKey(this.entity, bind, pageHash, '')
    const { key, fingerprint, value: index } = await this.#read<ListIndex>(base, tags)
    if (index !== undefined && Array.isArray(index.ids)) {
      const guesses = this.#speculate ? index.fingerprints : undefined
      const items = await this.#entities.read(index.ids as Id[], bind, guesses)
      if (items !== undefined) {
        this.#emit({ type: 'hit', kind: 'list', key })
        return pageOf(items, index)
      }
    }
    this.#emit({ type: 'miss', kind: 'list', key })
    return this.#flight.run(key, () =>
      this.#loadList(key, tags, fingerprint, bind, () => this.#inner.list(page, filters)),
    )
  }

  /** The named query's result, cached like a list; `null`/`undefined` results are not cached. */
  async query<R = unknown>(name: string, args?: unknown, options?: ReadOptions): Promise<R> {
    const hash = stableHash([name, args ?? null])
    if (hash === undefined) {
      this.#uncacheable('query', `the arguments of query "${name}" have no stable hash`)
      return (await this.#inner.query(name, args)) as R
    }
    const base = queryKey(this.entity, this.#bind(options), name, hash, '')
    const { key, value: cached } = await this.#read<R>(base, this.listTags(hash))
    if (cached !== undefined) {
      this.#emit({ type: 'hit', kind: 'query', key })
      return cached
    }
    this.#emit({ type: 'miss', kind: 'query', key })
    return this.#flight.run(key, async () => {
      const result = (await this.#inner.query(name, args)) as R
      if (result !== null && result !== undefined) {
        await this.#data.setValue(key, result, this.#listTtl)
      }
      return result
    })
  }

  /** Not cached: `field` may be mutable, so no entry could be invalidated reliably. */
  getBy(field: string, value: unknown): Promise<T | null> {
    if (this.#inner.getBy === undefined) return this.#unsupported('getBy')
    return this.#inner.getBy(field, value)
  }

  /** Not cached, like `getBy`. */
  existsBy(field: string, value: unknown): Promise<boolean> {
    if (this.#inner.existsBy === undefined) return this.#unsupported('existsBy')
    return this.#inner.existsBy(field, value)
  }

  /** Inserts, then bumps the entity's tags once the write has committed. */
  async create(data: Create, options?: WriteOptions): Promise<T> {
    this.#checkTransaction(options)
    const created = await this.#inner.create(data, options)
    await this.#invalidate([this.#inner.idOf(created)], options)
    return created
  }

  /** Updates, then bumps once committed; `null` (nothing bumped) when the id does not exist. */
  async update(id: Id, data: Update, options?: WriteOptions): Promise<T | null> {
    this.#checkTransaction(options)
    const updated = await this.#inner.update(id, data, options)
    if (updated !== null) await this.#invalidate([id], options)
    return updated
  }

  /** Deletes, then bumps once committed; resolves whether a row was deleted. */
  async delete(id: Id, options?: WriteOptions): Promise<boolean> {
    this.#checkTransaction(options)
    const deleted = await this.#inner.delete(id, options)
    if (deleted) await this.#invalidate([id], options)
    return deleted
  }

  /** Bumps `tags` now (for writes made outside this repository). */
  async invalidate(tags: readonly string[]): Promise<void> {
    await this.#resolver.bump(tags)
    this.#emit({ type: 'invalidate', tags: [...new Set(tags)] })
  }

  /** Resolves once every bump queued for a committed transaction has been applied (or failed). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  #bind(options: ReadOptions | undefined): string {
    return options?.bindGroup ?? this.#bindGroup
  }

  /**
   * The entry of `base` under the current fingerprint of `tags`. The entry under the fingerprint
   * this process saw last is fetched together with the counters, and used only if the counters
   * give that same fingerprint: one round trip instead of two while nothing changes, and the
   * same answer as reading after the counters (an entry is only ever written under the
   * fingerprint of the generations it was loaded at).
   */
  async #read<V>(
    base: string,
    tags: readonly string[],
  ): Promise<{ key: string; fingerprint: string; value: V | undefined }> {
    if (!this.#speculate) {
      const fingerprint = await this.#resolver.fingerprint(tags)
      const key = base + fingerprint
      return { key, fingerprint, value: await this.#data.getValue<V>(key) }
    }
    const guess = this.#recent.get(base)
    const [fingerprint, guessed] = await Promise.all([
      this.#resolver.fingerprint(tags),
      guess === undefined ? undefined : this.#data.getValue<V>(base + guess),
    ])
    this.#recent.set(base, fingerprint)
    const key = base + fingerprint
    const value = fingerprint === guess ? guessed : await this.#data.getValue<V>(key)
    return { key, fingerprint, value }
  }

  async #loadList(
    key: string,
    tags: readonly string[],
    fingerprint: string,
    bind: string,
    load: () => Promise<ListResult<T>>,
  ): Promise<ListResult<T>> {
    const result = await load()
    const ids = result.items.map((item) => this.#inner.idOf(item))
    // Entity fingerprints are read after the load, so the list's are read again with them: a
    // write that bumped in between makes both differ, and nothing of this load is cached.
    const [again, ...fingerprints] = await this.#resolver.fingerprintMany([
      tags,
      ...ids.map((id) => this.entityTags(id)),
    ])
    if (again !== fingerprint) return result
    await this.#entities.write(result.items, ids, bind, fingerprints)
    const index: ListIndex = this.#speculate ? { ids, fingerprints } : { ids }
    if (result.total !== undefined) index.total = result.total
    if (result.nextCursor !== undefined) index.nextCursor = result.nextCursor
    await this.#data.setValue(key, index, this.#listTtl)
    return result
  }

  #checkTransaction(options: WriteOptions | undefined): void {
    if (options?.transaction !== undefined && this.#inner.afterCommit === undefined) {
      throw new UnsupportedError(
        `[cellar:generational] repository "${this.entity}" cannot run actions after commit (no afterCommit), so writes in a transaction cannot be invalidated`,
      )
    }
  }

  async #invalidate(ids: readonly Id[], options: WriteOptions | undefined): Promise<void> {
    const tags = writeTags(this.entity, ids)
    if (options?.transaction === undefined) {
      try {
        await this.invalidate(tags)
      } catch (error) {
        throw this.#bumpFailed(tags, error)
      }
      return
    }
    this.#inner.afterCommit!(options.transaction, () => {
      const bump = this.invalidate(tags).catch((error: unknown) => {
        this.#emit({ type: 'error', error: this.#bumpFailed(tags, error) })
      })
      this.#pending.add(bump)
      return bump.finally(() => this.#pending.delete(bump))
    })
  }

  #bumpFailed(tags: readonly string[], error: unknown): CellarError {
    return generationalError(
      'E_INVALIDATION_FAILED',
      `the write to "${this.entity}" committed but bumping ${tags.join(', ')} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    )
  }

  #uncacheable(kind: RepositoryReadKind, reason: string): void {
    this.#emit({ type: 'uncacheable', kind, reason })
  }

  #unsupported(method: string): Promise<never> {
    return Promise.reject(
      new UnsupportedError(`[cellar:generational] repository "${this.entity}" has no ${method}`),
    )
  }

  #emit(event: RepositoryEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener must not break the read or write it observes.
      }
    }
  }
}

function pageOf<T>(items: T[], index: ListIndex): ListResult<T> {
  const result: { items: T[]; total?: number; nextCursor?: string | null } = { items }
  if (index.total !== undefined) result.total = index.total
  if (index.nextCursor !== undefined) result.nextCursor = index.nextCursor
  return result
}
