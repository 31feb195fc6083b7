import { join } from 'node:path'
import * as core from '@cellar/core'
import { CacheGateway, type Serializer } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache } from 'cache-manager'
import Keyv from 'keyv'
import { LRUCache } from 'lru-cache'
import { do_not_optimize } from 'mitata'
import { cycle, HIT_KEYS, KEY_COUNT, MISS_KEYS, PRODUCT, type Product, TTL_MS } from './fixture.js'
import { subscribeTracing } from './tracing.js'

/**
 * One cache under test. `hit`, `miss` and `set` are each a distinct function literal (not a
 * shared wrapper), so every benchmark gets its own call-site feedback and none turns megamorphic.
 */
export interface Contender {
  readonly name: string
  /** Who it is: a baseline, a peer library, or cellar itself. */
  readonly kind: 'baseline' | 'peer' | 'cellar'
  /** Serializes values on the way in and out (the peers a byte-mode store is compared with). */
  readonly serializes: boolean
  readonly hit: () => unknown
  readonly miss: () => unknown
  readonly set: () => unknown
  /** Reads one key once, for the correctness check before timing. */
  readonly read: (key: string) => unknown
  /** Writes one key once, to fill the cache before the get benchmarks. */
  readonly write: (key: string, value: Product) => unknown
  /** Runs around each of this contender's warm-ups and measurements; returns the undo. */
  readonly around?: () => () => void
  readonly close?: () => Promise<void>
}

function map(): Contender {
  const cache = new Map<string, Product>()
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'Map',
    kind: 'baseline',
    serializes: false,
    hit: () => do_not_optimize(cache.get(hitKey())),
    miss: () => do_not_optimize(cache.get(missKey())),
    set: () => do_not_optimize(cache.set(setKey(), PRODUCT)),
    read: (key) => cache.get(key),
    write: (key, value) => cache.set(key, value),
  }
}

/** lru-cache as its users configure it: a default `ttl` (default `ttlResolution`), or none. */
function lruCache(ttl: boolean): Contender {
  const cache = new LRUCache<string, Product>({ max: 10_000, ...(ttl && { ttl: TTL_MS }) })
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: ttl ? 'lru-cache' : 'lru-cache (no TTL)',
    kind: 'baseline',
    serializes: false,
    hit: () => do_not_optimize(cache.get(hitKey())),
    miss: () => do_not_optimize(cache.get(missKey())),
    set: () => do_not_optimize(cache.set(setKey(), PRODUCT)),
    read: (key) => cache.get(key),
    write: (key, value) => cache.set(key, value),
  }
}

/**
 * lru-cache behind an async function: the floor for any promise-returning cache API. Its reads
 * resolve `undefined` (what `do_not_optimize` returns); `resolves the value` resolves the cached
 * object, as a cache's `get` must, which costs the promise a lookup of `then` on that object.
 */
function lruCacheAsync(resolvesValue: boolean): Contender {
  const cache = new LRUCache<string, Product>({ max: 10_000, ttl: TTL_MS })
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: resolvesValue
      ? 'lru-cache (async wrapper, resolves the value)'
      : 'lru-cache (async wrapper)',
    kind: 'baseline',
    serializes: false,
    ...(resolvesValue
      ? { hit: async () => cache.get(hitKey()), miss: async () => cache.get(missKey()) }
      : {
          hit: async () => do_not_optimize(cache.get(hitKey())),
          miss: async () => do_not_optimize(cache.get(missKey())),
        }),
    set: async () => do_not_optimize(cache.set(setKey(), PRODUCT)),
    read: async (key) => cache.get(key),
    write: async (key, value) => cache.set(key, value),
  }
}

/**
 * lru-cache, then an already-settled promise shared by every call (no promise made per call):
 * what an awaited API that does nothing but the lookup costs in this harness, the ceiling of
 * any awaited `getValue`/`setValue`.
 */
function lruCacheSettled(): Contender {
  const cache = new LRUCache<string, Product>({ max: 10_000, ttl: TTL_MS })
  const settled: Promise<void> = Promise.resolve()
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'lru-cache (then a shared settled promise)',
    kind: 'baseline',
    serializes: false,
    hit: () => {
      do_not_optimize(cache.get(hitKey()))
      return settled
    },
    miss: () => {
      do_not_optimize(cache.get(missKey()))
      return settled
    },
    set: () => {
      do_not_optimize(cache.set(setKey(), PRODUCT))
      return settled
    },
    read: async (key) => cache.get(key),
    write: async (key, value) => cache.set(key, value),
  }
}

/**
 * lru-cache, then `Promise.resolve` of what it read: the floor of an awaited `get` that resolves
 * the cached object without keeping a promise per entry. Unlike the shared settled promise
 * above, this is work a `get` cannot skip: a fresh promise, and the lookup of `then` on the
 * object that resolving a promise with an object makes. Its set is the shared settled promise,
 * which a write can return (MemoryStore does).
 */
function lruCacheResolved(): Contender {
  const cache = new LRUCache<string, Product>({ max: 10_000, ttl: TTL_MS })
  const settled: Promise<void> = Promise.resolve()
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'lru-cache (then Promise.resolve of the value)',
    kind: 'baseline',
    serializes: false,
    hit: () => Promise.resolve(cache.get(hitKey())),
    miss: () => Promise.resolve(cache.get(missKey())),
    set: () => {
      do_not_optimize(cache.set(setKey(), PRODUCT))
      return settled
    },
    read: async (key) => cache.get(key),
    write: async (key, value) => cache.set(key, value),
  }
}

type Read = 'promise' | 'settled' | 'sync' | 'promise, not awaited' | 'settled, not awaited'

/**
 * MemoryStore through the gateway. `promise` is `getValue`; `sync` is `getValueSync`;
 * `settled` is one already-settled promise around `getValueSync` (what core's `getValue` does on
 * a synchronous store, written out in the benchmark). `sync` rows write with `setValueSync`. The
 * `not awaited` forms drop the promise (the set too): the call's own CPU cost, without the
 * microtask turn an `await` adds to every promise API, lru-cache's async wrapper included.
 */
function cellar(name: string, raw: boolean, read: Read, options: CellarOptions = {}): Contender {
  const build = options.build ?? mainBuild
  const store = new build.MemoryStore({ raw, maxEntries: 10_000 })
  const gateway = new build.CacheGateway(
    store,
    options.serializer ? { serializer: options.serializer } : {},
  )
  const ttl = options.ttl === false ? undefined : TTL_MS
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  const settled = (key: string): Promise<unknown> => {
    try {
      return Promise.resolve(gateway.getValueSync(key))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  const reads = {
    promise: {
      hit: () => gateway.getValue(hitKey()),
      miss: () => gateway.getValue(missKey()),
    },
    settled: { hit: () => settled(hitKey()), miss: () => settled(missKey()) },
    sync: {
      hit: () => do_not_optimize(gateway.getValueSync(hitKey())),
      miss: () => do_not_optimize(gateway.getValueSync(missKey())),
    },
    'promise, not awaited': {
      hit: () => {
        do_not_optimize(gateway.getValue(hitKey()))
      },
      miss: () => {
        do_not_optimize(gateway.getValue(missKey()))
      },
    },
    'settled, not awaited': {
      hit: () => {
        do_not_optimize(settled(hitKey()))
      },
      miss: () => {
        do_not_optimize(settled(missKey()))
      },
    },
  }[read]
  const awaited = !read.endsWith('not awaited')
  // The synchronous rows write with setValueSync where the gateway has it.
  const { setValueSync } = gateway as { setValueSync?: CacheGateway['setValueSync'] }
  const set =
    read === 'sync' && setValueSync !== undefined
      ? () => {
          gateway.setValueSync(setKey(), PRODUCT, ttl)
        }
      : awaited
        ? () => gateway.setValue(setKey(), PRODUCT, ttl)
        : () => {
            do_not_optimize(gateway.setValue(setKey(), PRODUCT, ttl))
          }
  return {
    name,
    kind: 'cellar',
    serializes: !raw,
    ...reads,
    set,
    read: (key) => gateway.getValue(key),
    write: (key, value) => gateway.setValue(key, value, ttl),
    ...(options.around && { around: options.around }),
    close: () => gateway.close(),
  }
}

interface CellarOptions {
  serializer?: Serializer
  ttl?: false
  around?: () => () => void
  /** Another build of the store and gateway (BENCH_BEFORE); this checkout's by default. */
  build?: Build | undefined
}

/** What the rows need of a build of `@cellar/memory` and `@cellar/core`. */
export interface Build {
  readonly MemoryStore: typeof MemoryStore
  readonly CacheGateway: typeof CacheGateway
}

/** The built store and gateway of a checkout (its root, built). */
export async function loadBuild(root: string): Promise<Build> {
  const memory = await import(join(root, 'packages/memory/dist/index.js'))
  const core = await import(join(root, 'packages/core/dist/index.js'))
  return { MemoryStore: memory.MemoryStore, CacheGateway: core.CacheGateway }
}

// The build every cellar row uses: this checkout's, or BENCH_BUILD=<checkout root> (so two
// builds can be compared run against run, each with every row: rows of one build share the
// JIT's feedback, so a build measured by fewer rows looks faster in a shared process).
let mainBuild: Build = { MemoryStore, CacheGateway }
if (process.env.BENCH_BUILD !== undefined) mainBuild = await loadBuild(process.env.BENCH_BUILD)

/**
 * The build of another checkout (`BENCH_BEFORE=<checkout root>`, built), measured alongside in
 * the same process as the `(before)` rows; undefined without it.
 */
export async function loadBuildBefore(): Promise<Build | undefined> {
  const root = process.env.BENCH_BEFORE
  return root === undefined ? undefined : loadBuild(root)
}

/** The raw MemoryStore without the gateway, to separate the store's cost from the gateway's. */
function cellarStoreOnly(): Contender {
  const store = new mainBuild.MemoryStore({ raw: true, maxEntries: 10_000 })
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'cellar MemoryStore raw, no gateway',
    kind: 'cellar',
    serializes: false,
    hit: () => store.get(hitKey()),
    miss: () => store.get(missKey()),
    set: () => store.set(setKey(), PRODUCT, TTL_MS),
    read: (key) => store.get(key),
    write: (key, value) => store.set(key, value, TTL_MS),
    close: () => store.close(),
  }
}

function keyv(): Contender {
  // The default: an in-memory Map with @keyv/serialize (JSON) on every get and set.
  const cache = new Keyv<Product>()
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'Keyv (default, serialized)',
    kind: 'peer',
    serializes: true,
    hit: () => cache.get(hitKey()),
    miss: () => cache.get(missKey()),
    set: () => cache.set(setKey(), PRODUCT, TTL_MS),
    read: (key) => cache.get(key),
    write: (key, value) => cache.set(key, value, TTL_MS),
    close: () => cache.disconnect(),
  }
}

function cacheManager(): Contender {
  // createCache() with no stores uses a Keyv Map with serialization switched off.
  const cache = createCache({ ttl: TTL_MS })
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'cache-manager (no serialization)',
    kind: 'peer',
    serializes: false,
    hit: () => cache.get<Product>(hitKey()),
    miss: () => cache.get<Product>(missKey()),
    set: () => cache.set(setKey(), PRODUCT, TTL_MS),
    read: (key) => cache.get<Product>(key),
    write: (key, value) => cache.set(key, value, TTL_MS),
    close: async () => {
      await cache.disconnect()
    },
  }
}

function bento(serialize: boolean): Contender {
  const cache = new BentoCache({
    default: 'memory',
    ttl: TTL_MS,
    stores: {
      memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize })),
    },
  })
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: serialize ? 'BentoCache memory (serialized)' : 'BentoCache memory (serialize: false)',
    kind: 'peer',
    serializes: serialize,
    hit: () => cache.get<Product>({ key: hitKey() }),
    miss: () => cache.get<Product>({ key: missKey() }),
    set: () => cache.set({ key: setKey(), value: PRODUCT, ttl: TTL_MS }),
    read: (key) => cache.get<Product>({ key }),
    write: (key, value) => cache.set({ key, value, ttl: TTL_MS }),
    close: () => cache.disconnect(),
  }
}

/** Every contender, in the order of the report. */
export function createContenders(before?: Build): Contender[] {
  // The tracing rows need core's store tracing channel (absent before contract 2).
  const traced = 'STORE_TRACING_CHANNEL' in core
  return [
    map(),
    lruCache(true),
    lruCache(false),
    lruCacheAsync(false),
    lruCacheAsync(true),
    lruCacheSettled(),
    lruCacheResolved(),
    cellarStoreOnly(),
    cellar('cellar raw (gateway)', true, 'promise'),
    ...(traced
      ? [
          cellar('cellar raw (gateway, tracing subscriber)', true, 'promise', {
            around: subscribeTracing,
          }),
        ]
      : []),
    cellar('cellar raw (gateway, settled read: proposed getValue)', true, 'settled'),
    cellar('cellar raw (gateway, not awaited)', true, 'promise, not awaited'),
    cellar('cellar raw (gateway, settled read, not awaited)', true, 'settled, not awaited'),
    cellar('cellar raw (gateway, getValueSync)', true, 'sync'),
    cellar('cellar raw (gateway, getValueSync, no TTL)', true, 'sync', { ttl: false }),
    ...(before === undefined
      ? []
      : [
          cellar('cellar raw (gateway) (before)', true, 'promise', { build: before }),
          cellar('cellar raw (gateway, getValueSync) (before)', true, 'sync', { build: before }),
        ]),
    cellar('cellar bytes, msgpack (gateway)', false, 'promise'),
    cellar('cellar bytes, msgpack (gateway, getValueSync)', false, 'sync'),
    cacheManager(),
    keyv(),
    bento(true),
    bento(false),
  ]
}

/** Writes every hit key, then checks that each contender reads back an equal product. */
export async function prepare(contenders: readonly Contender[]): Promise<void> {
  const expected = JSON.stringify(PRODUCT)
  for (const contender of contenders) {
    for (let i = 0; i < KEY_COUNT; i++) await contender.write(HIT_KEYS[i]!, PRODUCT)
    const back = await contender.read(HIT_KEYS[7]!)
    if (JSON.stringify(back) !== expected) {
      throw new Error(`${contender.name} read back ${JSON.stringify(back)}`)
    }
    if ((await contender.read(MISS_KEYS[7]!)) != null) {
      throw new Error(`${contender.name} found a value under a key never written`)
    }
  }
}
