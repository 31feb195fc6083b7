import { CacheGateway, resolveTtl, type Ttl } from '@cellar/core'
import type { CacheEmitter } from './emitter.js'
import type { RememberOptions } from './remember-options.js'
import { Repository } from './repository.js'
import { TagSet } from './tag-set.js'

/** What a tagged cache needs from the cache that made it. */
export interface TaggedContext {
  readonly storeName: string
  readonly events: CacheEmitter
  readonly ttl: Ttl
  /** Longest TTL a tagged entry may have (`forever` included); `null`: no cap. */
  readonly maxTtl: number | null
  /** Where tagged entries live: one nested namespace per generation fingerprint. */
  readonly entries: CacheGateway
  /** The cache-wide defaults of `remember`'s stampede options. */
  readonly remember?: RememberOptions
}

// Repositories over recent fingerprints; old ones are dropped once this many exist.
const KEEP = 64

/**
 * The entries written under a set of tags. Each call reads the tags' generations (one batched
 * read) and works in the namespace they name; `flush()` bumps the generations and deletes
 * nothing, so its cost is one increment per tag whatever the number of entries.
 */
export class TaggedCache {
  readonly #tags: TagSet
  readonly #context: TaggedContext
  readonly #repositories = new Map<string, Repository>()

  constructor(tags: TagSet, context: TaggedContext) {
    this.#tags = tags
    this.#context = context
  }

  /** The tags, sorted. */
  get names(): readonly string[] {
    return this.#tags.names
  }

  /** The value under these tags, or `undefined` (or the default) on a miss. */
  get<T = unknown>(key: string, fallback?: T | (() => T | Promise<T>)): Promise<T | undefined> {
    // Not async: on an in-process store the generations are read without a promise, and the
    // repository's own promise is returned.
    let current: Repository | Promise<Repository>
    try {
      current = this.#current()
    } catch (error) {
      return Promise.reject(error)
    }
    if (current instanceof Promise) {
      return current.then((repository) => repository.get<T>(key, fallback as never))
    }
    return current.get<T>(key, fallback as never)
  }

  /** Several values under these tags. */
  async many(keys: readonly string[]): Promise<Record<string, unknown>> {
    return (await this.#current()).many(keys)
  }

  /** Writes under these tags (the TTL is capped by `maxTaggedTtl`). */
  async put(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    return (await this.#current()).put(key, value, this.#capped(ttl))
  }

  /** Writes several entries under these tags. */
  async putMany(values: Readonly<Record<string, unknown>>, ttl?: Ttl): Promise<boolean> {
    return (await this.#current()).putMany(values, this.#capped(ttl))
  }

  /** Writes only if absent under these tags. */
  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    return (await this.#current()).add(key, value, this.#capped(ttl))
  }

  /** Writes under these tags with no expiry (or `maxTaggedTtl`, when set). */
  forever(key: string, value: unknown): Promise<boolean> {
    return this.put(key, value, null)
  }

  /** `remember` under these tags. */
  remember<T>(
    key: string,
    ttl: Ttl,
    loader: () => T | Promise<T>,
    options?: RememberOptions,
  ): Promise<T> {
    let current: Repository | Promise<Repository>
    let capped: Ttl
    try {
      capped = this.#capped(ttl)
      current = this.#current()
    } catch (error) {
      return Promise.reject(error)
    }
    if (current instanceof Promise) {
      return current.then((repository) => repository.remember(key, capped, loader, options))
    }
    return current.remember(key, capped, loader, options)
  }

  /** `rememberForever` under these tags. */
  rememberForever<T>(
    key: string,
    loader: () => T | Promise<T>,
    options?: RememberOptions,
  ): Promise<T> {
    return this.remember(key, null, loader, options)
  }

  /** Removes one entry under these tags. */
  async forget(key: string): Promise<boolean> {
    return (await this.#current()).forget(key)
  }

  /** Atomically increments a counter under these tags. */
  async increment(key: string, by = 1): Promise<number> {
    return (await this.#current()).increment(key, by, this.#capped(undefined))
  }

  /** Atomically decrements a counter under these tags. */
  async decrement(key: string, by = 1): Promise<number> {
    return (await this.#current()).decrement(key, by, this.#capped(undefined))
  }

  /** Makes every entry written under any of these tags unreachable: one increment per tag. */
  async flush(): Promise<boolean> {
    await this.#tags.flush()
    this.#repositories.clear()
    this.#context.events.emit('flushed', { store: this.#context.storeName, tags: this.names })
    return true
  }

  #capped(ttl: Ttl): Ttl {
    const max = this.#context.maxTtl
    const effective = ttl === undefined ? this.#context.ttl : ttl
    if (max === null) return effective
    const ms = resolveTtl(effective)
    return ms === null || ms > max ? max : ms
  }

  // The repository of the tags' current namespace; without a promise when the generations
  // were read in-process.
  #current(): Repository | Promise<Repository> {
    const namespace = this.#tags.current()
    return typeof namespace === 'string'
      ? this.#repository(namespace)
      : namespace.then((name) => this.#repository(name))
  }

  #repository(namespace: string): Repository {
    let repository = this.#repositories.get(namespace)
    if (repository === undefined) {
      if (this.#repositories.size >= KEEP) this.#repositories.clear()
      const { entries, storeName, events, ttl } = this.#context
      const gateway = new CacheGateway(entries.store.namespace(namespace), {
        serializer: entries.codec.serializer,
      })
      repository = new Repository(gateway, {
        storeName,
        events,
        ttl,
        tags: this.names,
        ...(this.#context.remember !== undefined && { remember: this.#context.remember }),
      })
      if (events.listens('hit') || events.listens('missed') || events.listens('written')) {
        repository.observe()
      }
      this.#repositories.set(namespace, repository)
    }
    return repository
  }
}

/** The tagged caches of one repository: where their counters and entries live, recent tag sets. */
export class TaggedCaches {
  readonly #counters: CacheGateway
  readonly #context: TaggedContext
  // Recent tag sets, so a hot `cache.tags('x').get(...)` reuses their generation hashes.
  readonly #recent = new Map<string, TaggedCache>()

  constructor(counters: CacheGateway, context: TaggedContext) {
    this.#counters = counters
    this.#context = context
  }

  /** The tagged cache of `names` (one tag, or several in any order). */
  get(names: string | readonly string[]): TaggedCache {
    const list = typeof names === 'string' ? [names] : names
    const id = Array.isArray(list) ? list.join('\u0000') : ''
    let tagged = this.#recent.get(id)
    if (tagged === undefined) {
      tagged = new TaggedCache(new TagSet(this.#counters, list), this.#context)
      if (this.#recent.size >= 256) this.#recent.clear()
      this.#recent.set(id, tagged)
    }
    return tagged
  }
}
