import {
  CacheGateway,
  type Duration,
  InvalidArgumentError,
  parseDuration,
  resolveTtl,
  type Serializer,
  type Store,
  type Ttl,
} from '@cellar/core'
import { CacheEmitter, type CacheEvents, type CacheListener } from './emitter.js'
import { UnknownStoreError } from './errors.js'
import { FailoverStore } from './failover.js'
import { CacheFake } from './fake.js'
import type { RememberOptions } from './remember-options.js'
import { Repository } from './repository.js'

/** Any cellar store. */
export type AnyStore = Store<Uint8Array> | Store<unknown>

/** A failover list in `stores`: made by `failover([...names])`. */
export interface FailoverSpec {
  readonly kind: 'failover'
  readonly stores: readonly string[]
  readonly retryAfter?: Duration
}

/** How a configured store is given: an instance, a lazy factory, or a failover list. */
export type StoreSource = AnyStore | (() => AnyStore) | FailoverSpec

/** `createCache()`'s configuration, shaped like Laravel's `config/cache.php`. */
export interface CacheConfig<S extends Record<string, StoreSource>> {
  /** The store every facade call uses unless `store(name)` picks another. */
  readonly default: keyof S & string
  /** Named stores: instances, factories (built on first use) or `failover([...])`. */
  readonly stores: S
  /** Every key of this cache lives under this namespace of each store. */
  readonly prefix?: string
  /** TTL of writes that omit one; omitted → each store's own default. */
  readonly ttl?: Ttl
  /**
   * Turns values into bytes on byte stores.
   * @default MessagePack (core's default)
   */
  readonly serializer?: Serializer
  /** Longest TTL a tagged entry may have (`forever` included), so orphans can't pile up. */
  readonly maxTaggedTtl?: Duration | null
  /** Allow `tags()` on stores without atomic counters (a concurrent flush may be lost). */
  readonly allowNonAtomicTags?: boolean
  /**
   * Stampede options every `remember` call starts from (a per-call option wins); a cache-wide
   * `lock` applies only to stores that declare locks.
   */
  readonly remember?: Omit<RememberOptions, 'signal'>
}

/** A failover store kind for `stores`: calls go to the first of `stores` that is up. */
export function failover(
  stores: readonly string[],
  options: { retryAfter?: Duration } = {},
): FailoverSpec {
  return { kind: 'failover', stores: [...stores], ...options }
}

function isFailover(source: StoreSource): source is FailoverSpec {
  return (source as FailoverSpec).kind === 'failover'
}

/**
 * The cache facade: Laravel's `Cache` methods on the default store, `store(name)` for the
 * others (a name not in the configuration is a compile error, and `E_UNKNOWN_STORE` from
 * untyped code), typed events, `fake()` for tests, `close()` for every store it built.
 */
export class CacheManager<N extends string = string> {
  readonly #config: CacheConfig<Record<N, StoreSource>>
  readonly #events = new CacheEmitter()
  readonly #stores = new Map<string, AnyStore>()
  readonly #repositories = new Map<string, Repository>()
  readonly #ttl: Ttl
  readonly #maxTaggedTtl: number | null
  #fake: CacheFake | undefined
  #default: Repository | undefined

  // Laravel's methods, on the default store (or the fake while one is active). One arrow per
  // method, each with its own call site: a shared forwarder would see every method at one site
  // and V8 could inline none of them.
  readonly get = ((key: string, second?: unknown) =>
    this.store().get(key, second as never)) as Repository['get']
  readonly many: Repository['many'] = (keys) => this.store().many(keys)
  readonly put: Repository['put'] = (key, value, ttl) => this.store().put(key, value, ttl)
  readonly set: Repository['set'] = (key, value, ttl) => this.store().set(key, value, ttl)
  readonly putMany: Repository['putMany'] = (values, ttl) => this.store().putMany(values, ttl)
  readonly add: Repository['add'] = (key, value, ttl) => this.store().add(key, value, ttl)
  readonly forever: Repository['forever'] = (key, value) => this.store().forever(key, value)
  readonly forget: Repository['forget'] = (key) => this.store().forget(key)
  readonly delete: Repository['delete'] = (key) => this.store().delete(key)
  readonly flush: Repository['flush'] = () => this.store().flush()
  readonly clear: Repository['clear'] = () => this.store().clear()
  readonly has: Repository['has'] = (key) => this.store().has(key)
  readonly missing: Repository['missing'] = (key) => this.store().missing(key)
  readonly pull: Repository['pull'] = (key, fallback) => this.store().pull(key, fallback)
  readonly increment: Repository['increment'] = (key, by, ttl) =>
    this.store().increment(key, by, ttl)
  readonly decrement: Repository['decrement'] = (key, by, ttl) =>
    this.store().decrement(key, by, ttl)
  readonly touch: Repository['touch'] = (key, ttl) => this.store().touch(key, ttl)
  readonly remember: Repository['remember'] = (key, ttl, loader, options) =>
    this.store().remember(key, ttl, loader, options)
  readonly rememberForever: Repository['rememberForever'] = (key, loader, options) =>
    this.store().rememberForever(key, loader, options)
  readonly sear: Repository['sear'] = (key, loader, options) =>
    this.store().sear(key, loader, options)
  readonly flexible: Repository['flexible'] = (key, freshness, loader) =>
    this.store().flexible(key, freshness, loader)
  readonly tags: Repository['tags'] = (names) => this.store().tags(names)
  readonly lock: Repository['lock'] = (name, ttl, owner) => this.store().lock(name, ttl, owner)
  readonly restoreLock: Repository['restoreLock'] = (name, owner) =>
    this.store().restoreLock(name, owner)
  readonly rateLimiter: Repository['rateLimiter'] = (options) => this.store().rateLimiter(options)

  constructor(config: CacheConfig<Record<N, StoreSource>>) {
    const names = Object.keys(config.stores ?? {})
    if (!names.includes(config.default)) {
      throw new UnknownStoreError(
        `[cellar:cache] default store "${String(config.default)}" is not configured (configured: ${names.join(', ') || 'none'})`,
        names,
      )
    }
    this.#config = config
    this.#ttl = config.ttl
    if (config.ttl !== undefined) resolveTtl(config.ttl) // refuse a bad TTL at start
    const cap = config.maxTaggedTtl
    this.#maxTaggedTtl =
      cap === undefined || cap === null ? null : parseDuration(cap, 'maxTaggedTtl')
  }

  /** The facade over one configured store. */
  store(name?: N): Repository {
    if (this.#fake !== undefined) return this.#fake
    if (name === undefined && this.#default !== undefined) return this.#default
    const target = name ?? this.#config.default
    let repository = this.#repositories.get(target)
    if (repository === undefined) {
      const gateway = new CacheGateway(this.#resolve(target), {
        ...(this.#config.serializer && { serializer: this.#config.serializer }),
        ...(this.#config.prefix !== undefined && { prefix: this.#config.prefix }),
      })
      repository = new Repository(gateway, {
        storeName: target,
        events: this.#events,
        ttl: this.#ttl,
        maxTaggedTtl: this.#maxTaggedTtl,
        allowNonAtomicTags: this.#config.allowNonAtomicTags === true,
        ...(this.#config.remember !== undefined && { remember: this.#config.remember }),
      })
      if (this.#events.active()) repository.observe()
      this.#repositories.set(target, repository)
      if (target === this.#config.default) this.#default = repository
    }
    return repository
  }

  /** Adds a listener of a facade event; returns a function that removes it. */
  on<E extends keyof CacheEvents>(type: E, listener: CacheListener<E>): () => void {
    const off = this.#events.on(type, listener)
    for (const repository of this.#repositories.values()) repository.observe()
    this.#fake?.observe()
    return off
  }

  /**
   * Routes every call (every store name) to an in-process fake that records what the code under
   * test does; `restore()` on the result (or `using`) puts the real stores back.
   */
  fake(): CacheFake {
    this.#fake = new CacheFake(this.#events, () => {
      this.#fake = undefined
    })
    this.#fake.observe()
    return this.#fake
  }

  /** Closes every store this cache built or was given (stores of a failover included). */
  async close(): Promise<void> {
    const stores = [...this.#stores.values()]
    this.#stores.clear()
    this.#repositories.clear()
    this.#default = undefined
    await Promise.all(stores.map((store) => store.close()))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #resolve(name: string): AnyStore {
    const built = this.#stores.get(name)
    if (built !== undefined) return built
    const stores = this.#config.stores as Record<string, StoreSource>
    const source = Object.hasOwn(stores, name) ? stores[name] : undefined
    if (source === undefined) {
      const names = Object.keys(stores)
      throw new UnknownStoreError(
        `[cellar:cache] no store named "${name}" (configured: ${names.join(', ')})`,
        names,
      )
    }
    let store: AnyStore
    if (isFailover(source)) {
      const members = source.stores.map((member) => {
        if (member === name) {
          throw new InvalidArgumentError(`[cellar:cache] failover "${name}" lists itself`)
        }
        return { name: member, store: this.#resolve(member) as Store<unknown> }
      })
      store = new FailoverStore(members, {
        ...(source.retryAfter !== undefined && {
          retryAfterMs: parseDuration(source.retryAfter, 'retryAfter'),
        }),
        onFailover: (from, to, error) =>
          this.#events.emit('failedOver', { store: name, from, to, error }),
      })
      // Members are closed on their own; the failover itself owns nothing.
      return store
    }
    store = typeof source === 'function' ? source() : source
    this.#stores.set(name, store)
    return store
  }
}

/** Builds the cache facade from a configuration; store names are checked by the compiler. */
export function createCache<const S extends Record<string, StoreSource>>(
  config: CacheConfig<S>,
): CacheManager<keyof S & string> {
  return new CacheManager<keyof S & string>(
    config as unknown as CacheConfig<Record<keyof S & string, StoreSource>>,
  )
}
