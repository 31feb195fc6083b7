import {
  type CacheEvent,
  CacheGateway,
  type Duration,
  isTracing,
  type LockOptions,
  type StandardSchemaV1,
  type Ttl,
  UnsupportedError,
} from '@cellar/core'
import { RateLimiter, type RateLimiterOptions } from '@cellar/rate-limiter'
import { type CacheEmitter, relayGatewayEvent } from './emitter.js'
import { Flexible, type Freshness } from './flexible.js'
import { CacheLock } from './lock.js'
import type { RememberOptions } from './remember-options.js'
import { SingleFlight } from './single-flight.js'
import { Stampede } from './stampede.js'
import { type TaggedCache, TaggedCaches } from './tagged.js'

/** Options of a typed read. */
export interface ReadOptions<S extends StandardSchemaV1 = StandardSchemaV1, D = never> {
  /** Validates (and may convert) the value; one that fails reads as a miss. */
  readonly schema?: S
  /** What a miss resolves instead of `undefined` (a function is called only on a miss). */
  readonly default?: D | (() => D | Promise<D>)
}

/** Options of `rateLimiter()`: a `RateLimiter`'s options without `store` (the cache's store). */
export type CacheRateLimiterOptions = Omit<RateLimiterOptions, 'store'>

/** What a repository shares with the cache that made it. */
export interface RepositoryContext {
  /** The configured store name, in events and errors. */
  readonly storeName: string
  /** The facade's events. */
  readonly events: CacheEmitter
  /** TTL of writes that omit one (`undefined`: the store's own default). */
  readonly ttl: Ttl
  /** Tags of a tagged cache, carried into its events. */
  readonly tags?: readonly string[]
  /** Longest TTL of a tagged entry, in ms (`null`: no cap). */
  readonly maxTaggedTtl?: number | null
  /** Allow tags on a store whose counters are not atomic. */
  readonly allowNonAtomicTags?: boolean
  /** Cache-wide defaults of `remember`'s stampede options. */
  readonly remember?: RememberOptions
}

function isReadOptions(value: unknown): value is ReadOptions {
  if (typeof value !== 'object' || value === null) return false
  const schema = (value as ReadOptions).schema
  return typeof schema === 'object' && schema !== null && '~standard' in schema
}

const yes = (): true => true
const WRITTEN: Promise<boolean> = Promise.resolve(true)

async function fallback<D>(value: D | (() => D | Promise<D>)): Promise<D> {
  return typeof value === 'function' ? await (value as () => D | Promise<D>)() : value
}

/**
 * Laravel's `Cache` methods over one store (through a core `CacheGateway`). A stored `null`,
 * `false`, `0` or `''` is a hit; a miss reads as `undefined` (or the default you pass).
 * TTLs are cellar durations: milliseconds or `'10m'`; `null` keeps forever; `<= 0` removes.
 */
export class Repository {
  /** The gateway underneath: typed values, counters, locks. */
  readonly gateway: CacheGateway
  readonly #context: RepositoryContext
  readonly #flights = new SingleFlight()
  readonly #stampede: Stampede
  readonly #flexible: Flexible
  // `remember` hits are read (and `put` writes) without a promise when the store answers in-process.
  readonly #synchronous: boolean
  readonly #writesInProcess: boolean
  #refreshGuards: CacheGateway | undefined
  #tagged: TaggedCaches | undefined
  #observing = false

  constructor(gateway: CacheGateway, context: RepositoryContext) {
    this.gateway = gateway
    this.#context = context
    this.#stampede = new Stampede(
      gateway,
      {
        storeName: context.storeName,
        events: context.events,
        ttl: context.ttl,
        ...(context.remember !== undefined && { defaults: context.remember }),
      },
      (key, task, since) => this.#flights.run(key, task, since),
      (key, value, ttl) => this.put(key, value, ttl),
      () => this.#flights.mark(),
    )
    this.#flexible = new Flexible(gateway, {
      storeName: context.storeName,
      events: context.events,
      flights: this.#flights,
      guards: () => {
        this.#refreshGuards ??= this.#nested('__refresh')
        return this.#refreshGuards
      },
    })
    const store = gateway.store
    this.#synchronous = store.capabilities.synchronous === true && store.getSync !== undefined
    this.#writesInProcess = this.#synchronous && store.setSync !== undefined
  }

  /** The configured name of the store this repository writes to. */
  get storeName(): string {
    return this.#context.storeName
  }

  /** Starts turning gateway events into facade events (done once, when someone listens). */
  observe(): void {
    if (this.#observing) return
    this.#observing = true
    const { events, storeName, tags } = this.#context
    this.gateway.on((event: CacheEvent) => relayGatewayEvent(events, storeName, tags, event))
  }

  /** The value, or `undefined` on a miss; with a default, the default on a miss. */
  get<T = unknown>(key: string): Promise<T | undefined>
  get<S extends StandardSchemaV1>(
    key: string,
    options: ReadOptions<S> & { schema: S },
  ): Promise<StandardSchemaV1.InferOutput<S> | undefined>
  get<S extends StandardSchemaV1, D>(
    key: string,
    options: ReadOptions<S, D> & { schema: S; default: D | (() => D | Promise<D>) },
  ): Promise<StandardSchemaV1.InferOutput<S> | D>
  get<T>(key: string, fallbackValue: T | (() => T | Promise<T>)): Promise<T>
  get(key: string, second?: unknown): Promise<unknown> {
    // The common call returns the gateway's own promise: no wrapper frame on a hot path.
    if (second === undefined) return this.gateway.getValue(key)
    return this.#getOr(key, second)
  }

  async #getOr(key: string, second: unknown): Promise<unknown> {
    const options = isReadOptions(second) ? second : undefined
    const value =
      options === undefined
        ? await this.gateway.getValue(key)
        : await this.gateway.getValue(key, { schema: options.schema! })
    if (value !== undefined) return value
    if (options !== undefined) {
      return options.default === undefined ? undefined : fallback(options.default)
    }
    return fallback(second)
  }

  /** Reads several keys at once: a record of key → value (`undefined`, or its default, on a miss). */
  async many(
    keys: readonly string[] | Readonly<Record<string, unknown>>,
  ): Promise<Record<string, unknown>> {
    const names = Array.isArray(keys) ? (keys as readonly string[]) : Object.keys(keys)
    const values = await this.gateway.multiGetValues(names)
    const result: Record<string, unknown> = {}
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      const value = values[i]
      result[name] =
        value === undefined && !Array.isArray(keys)
          ? await fallback((keys as Record<string, unknown>)[name])
          : value
    }
    return result
  }

  /** Writes a value; resolves true. Omitted TTL → the cache's `ttl`; `<= 0` removes the key. */
  put(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const effective = ttl === undefined ? this.#context.ttl : ttl
    this.#stampede.written(key)
    if (this.#writesInProcess && !isTracing()) {
      // Written when `setValueSync` returns: one settled promise, no reaction job.
      try {
        this.gateway.setValueSync(key, value, effective)
      } catch (error) {
        return Promise.reject(error)
      }
      return WRITTEN
    }
    return this.gateway.setValue(key, value, effective).then(yes)
  }

  /** `put`, by its PSR-16 name. */
  set(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    return this.put(key, value, ttl)
  }

  /** Writes every entry of a record with one TTL; nothing is written if a value can't be encoded. */
  async putMany(values: Readonly<Record<string, unknown>>, ttl?: Ttl): Promise<boolean> {
    const entries = Object.entries(values)
    for (const [key] of entries) this.#stampede.written(key)
    await this.gateway.multiSetValues(entries, ttl === undefined ? this.#context.ttl : ttl)
    return true
  }

  /** Writes only if the key is absent (atomic where the store declares `atomicAdd`); true if it wrote. */
  add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    this.#stampede.written(key)
    return this.gateway.addValue(key, value, ttl === undefined ? this.#context.ttl : ttl)
  }

  /** Writes a value that never expires. */
  forever(key: string, value: unknown): Promise<boolean> {
    return this.put(key, value, null)
  }

  /** Removes a key; resolves true if one was removed. */
  async forget(key: string): Promise<boolean> {
    this.#stampede.written(key)
    return this.gateway.delete(key)
  }

  /** `forget`, by its PSR-16 name. */
  delete(key: string): Promise<boolean> {
    return this.forget(key)
  }

  /** Removes every entry of this cache's prefix (never another prefix, never a lock). */
  async flush(): Promise<boolean> {
    this.#stampede.flushed()
    await this.gateway.clear()
    return true
  }

  /** `flush`, by its PSR-16 name. */
  clear(): Promise<boolean> {
    return this.flush()
  }

  /** True if the key holds a live entry (a stored `null` counts). */
  has(key: string): Promise<boolean> {
    return this.gateway.exists(key)
  }

  /** True if the key holds no live entry. */
  async missing(key: string): Promise<boolean> {
    return !(await this.gateway.exists(key))
  }

  /** Reads the value and removes it; a miss resolves the default (or `undefined`). */
  async pull<T = unknown>(
    key: string,
    fallbackValue?: T | (() => T | Promise<T>),
  ): Promise<T | undefined> {
    const value = await this.gateway.getValue<T>(key)
    if (value === undefined)
      return fallbackValue === undefined ? undefined : fallback(fallbackValue)
    this.#stampede.written(key)
    await this.gateway.delete(key)
    return value
  }

  /** Atomically adds `by` (default 1) with the store's native counter; resolves the new value. */
  increment(key: string, by = 1, ttl?: Ttl): Promise<number> {
    this.#stampede.written(key)
    return this.gateway.incr(key, by, ttl === undefined ? undefined : { ttl })
  }

  /** Atomically subtracts `by` (default 1); resolves the new value. */
  decrement(key: string, by = 1, ttl?: Ttl): Promise<number> {
    this.#stampede.written(key)
    return this.gateway.incr(key, -by, ttl === undefined ? undefined : { ttl })
  }

  /** Replaces the TTL of a live entry; true if it did (never revives an expired one). */
  touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#stampede.written(key)
    return this.gateway.touch(key, ttl)
  }

  /**
   * The cached value, or the loader's result cached for `ttl`. Concurrent calls for one key in
   * this process run the loader once and all get its result; a loader error reaches every
   * waiter and nothing is cached. A loader resolving `undefined` is returned but not cached.
   * `options` add a cross-process lock, grace, timeouts and an abort signal (`RememberOptions`).
   */
  remember<T>(
    key: string,
    ttl: Ttl,
    loader: () => T | Promise<T>,
    options?: RememberOptions,
  ): Promise<T> {
    if (options !== undefined || this.#context.remember !== undefined || !this.#synchronous) {
      return this.#stampede.remember(key, ttl, loader, options)
    }
    return this.#rememberInProcess(key, ttl, loader)
  }

  /** `remember` with no expiry. */
  rememberForever<T>(
    key: string,
    loader: () => T | Promise<T>,
    options?: RememberOptions,
  ): Promise<T> {
    return this.remember(key, null, loader, options)
  }

  /** `rememberForever`, by Laravel's other name. */
  sear<T>(key: string, loader: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    return this.rememberForever(key, loader, options)
  }

  /**
   * Stale-while-revalidate: within `fresh` of the last load the value is served as is; within
   * the `stale` period after that it is served and refreshed once in the background (guarded
   * across processes by an atomic `add` on a refresh key); past both it is loaded inline.
   */
  flexible<T>(key: string, freshness: Freshness, loader: () => T | Promise<T>): Promise<T> {
    return this.#flexible.flexible(key, freshness, loader)
  }

  /**
   * The entries written under these tags; `flush()` on the result makes them unreachable in
   * O(1). Refused (`E_UNSUPPORTED`) on a store whose counters are not atomic, unless the cache
   * was created with `allowNonAtomicTags`.
   */
  tags(names: string | readonly string[]): TaggedCache {
    const store = this.gateway.store
    const { storeName, events, ttl } = this.#context
    if (!store.capabilities.atomicCounters && this.#context.allowNonAtomicTags !== true) {
      throw new UnsupportedError(
        `[cellar:cache] store "${storeName}" (${store.name}) has no atomic counters, so concurrent tag flushes could be lost; pass allowNonAtomicTags: true to accept that`,
      )
    }
    this.#tagged ??= new TaggedCaches(this.#nested('__tags'), {
      storeName,
      events,
      ttl,
      maxTtl: this.#context.maxTaggedTtl ?? null,
      entries: this.#nested('__tagged'),
      ...(this.#context.remember !== undefined && { remember: this.#context.remember }),
    })
    return this.#tagged.get(names)
  }

  /** A lock on this store (`E_UNSUPPORTED` naming the store when it declares no locks). */
  lock(name: string, ttl?: Duration | null, owner?: string): CacheLock {
    const store = this.gateway.store
    if (!store.capabilities.locks) {
      throw new UnsupportedError(
        `[cellar:cache] store "${this.#context.storeName}" (${store.name}) has no locks; configure one that declares them`,
        { key: name },
      )
    }
    const options: LockOptions = {}
    if (ttl !== undefined) options.ttl = ttl
    if (owner !== undefined) options.owner = owner
    return new CacheLock(
      this.gateway.lock(name, options),
      this.#context.storeName,
      this.#context.events,
    )
  }

  /** The lock `name` as held by `owner` (e.g. in another process), to release or extend it. */
  restoreLock(name: string, owner: string): CacheLock {
    return this.lock(name, undefined, owner)
  }

  /**
   * A `RateLimiter` (`@cellar/rate-limiter`) keeping its state in this store, under this cache's
   * prefix, in the namespace `options.name` (default `'rate-limiter'`). Limiters with different
   * names never share counters. Build one per policy and keep it: each call makes a new limiter.
   */
  rateLimiter(options: CacheRateLimiterOptions): RateLimiter {
    return new RateLimiter({ ...options, store: this.gateway.store })
  }

  // A hit costs one synchronous read and one settled promise; a miss (or a read that throws,
  // reported by the async path) goes on as the stampede engine's plain path would.
  #rememberInProcess<T>(key: string, ttl: Ttl, loader: () => T | Promise<T>): Promise<T> {
    if (isTracing()) return this.#stampede.remember(key, ttl, loader)
    let hit: T | undefined
    try {
      hit = this.gateway.getValueSync<T>(key)
    } catch {
      return this.#stampede.remember(key, ttl, loader)
    }
    if (hit !== undefined) return Promise.resolve(hit)
    return this.#flights.run(key, async () => {
      const value = await loader()
      if (value !== undefined) await this.put(key, value, ttl)
      return value
    })
  }

  // Tag counters, tagged entries and refresh guards live in namespaces of their own, which no
  // cache key can alias.
  #nested(name: string): CacheGateway {
    return new CacheGateway(this.gateway.store.namespace(name), {
      serializer: this.gateway.codec.serializer,
    })
  }
}
