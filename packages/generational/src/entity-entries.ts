import type { CacheGateway, Ttl } from '@cellar/core'
import { entityKeyIn, entityKeyPrefix } from './keys.js'
import type { EntityId, Repository } from './repository.js'
import type { DependencyResolver } from './resolver.js'
import { type DependencySpec, dependencyEntityTags, entityTags } from './tags.js'

/** What the entity entries of one `CachedRepository` are made of (internal). */
export interface EntityEntriesOptions<T, Id extends EntityId> {
  readonly repository: Pick<Repository<T, Id>, 'entity' | 'idOf' | 'getByIds'>
  readonly data: CacheGateway
  readonly resolver: DependencyResolver
  readonly dependencies: readonly DependencySpec[]
  readonly ttl: Ttl
  readonly refillBatch: number
}

/**
 * The entity entries of a repository as a list page uses them: read many at once, refill the
 * missing ones from the repository, write a loaded page's entities.
 */
export class EntityEntries<T, Id extends EntityId> {
  readonly #options: EntityEntriesOptions<T, Id>

  constructor(options: EntityEntriesOptions<T, Id>) {
    this.#options = options
  }

  /** The tags an entity entry of `id` depends on (its own and its dependencies'). */
  tags(id: Id): string[] {
    const { repository, dependencies } = this.#options
    const own = entityTags(repository.entity, id)
    return dependencies.length === 0 ? own : [...own, ...dependencyEntityTags(dependencies, id)]
  }

  /** The current fingerprint of each id's entry, in one resolver read. */
  fingerprints(ids: readonly Id[]): Promise<string[]> {
    return this.#options.resolver.fingerprintMany(ids.map((id) => this.tags(id)))
  }

  /**
   * The entities of a cached page, or `undefined` when one of them no longer exists. `cached`
   * are the fingerprints the page was cached with: their entries are fetched together with the
   * counters and kept where the counters still give the same fingerprint; the others are read
   * under their current fingerprint. Missing entities are refilled with `getByIds`.
   */
  async read(
    ids: readonly Id[],
    bind: string,
    cached?: readonly unknown[],
  ): Promise<T[] | undefined> {
    if (ids.length === 0) return []
    const { repository, data } = this.#options
    const prefix = entityKeyPrefix(repository.entity, bind)
    const guess = cached !== undefined && cached.length === ids.length ? cached : undefined
    const [fingerprints, prefetched] = await Promise.all([
      this.fingerprints(ids),
      guess === undefined
        ? undefined
        : data.multiGetValues<T>(ids.map((id, i) => entityKeyIn(prefix, id, String(guess[i])))),
    ])
    const values = new Array<T | undefined>(ids.length)
    const keys = new Array<string>(ids.length)
    const moved: number[] = []
    const missing: number[] = []
    for (let i = 0; i < ids.length; i++) {
      keys[i] = entityKeyIn(prefix, ids[i]!, fingerprints[i]!)
      if (prefetched === undefined || fingerprints[i] !== guess![i]) {
        moved.push(i)
        continue
      }
      values[i] = prefetched[i]
      if (values[i] === undefined) missing.push(i)
    }
    if (moved.length > 0) {
      const read = await data.multiGetValues<T>(moved.map((i) => keys[i]!))
      for (let j = 0; j < moved.length; j++) {
        const i = moved[j]!
        values[i] = read[j]
        if (values[i] === undefined) missing.push(i)
      }
    }
    if (missing.length === 0) return values as T[]
    const loaded = await this.#byIds(missing.map((i) => ids[i]!))
    const refill: Array<[string, T]> = []
    for (const i of missing) {
      const item = loaded.get(ids[i]!)
      if (item === undefined) return undefined
      values[i] = item
      refill.push([keys[i]!, item])
    }
    await data.multiSetValues(refill, this.#options.ttl)
    return values as T[]
  }

  /** Writes loaded entities under the fingerprints read for them. */
  async write(
    items: readonly T[],
    ids: readonly Id[],
    bind: string,
    fingerprints: readonly string[],
  ) {
    if (items.length === 0) return
    const prefix = entityKeyPrefix(this.#options.repository.entity, bind)
    await this.#options.data.multiSetValues(
      items.map((item, i) => [entityKeyIn(prefix, ids[i]!, fingerprints[i]!), item]),
      this.#options.ttl,
    )
  }

  async #byIds(ids: readonly Id[]): Promise<Map<Id, T>> {
    const { repository, refillBatch } = this.#options
    const found = new Map<Id, T>()
    for (let i = 0; i < ids.length; i += refillBatch) {
      for (const item of await repository.getByIds(ids.slice(i, i + refillBatch))) {
        found.set(repository.idOf(item), item)
      }
    }
    return found
  }
}
