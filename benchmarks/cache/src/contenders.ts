import { randomUUID } from 'node:crypto'
import { createCache as cellarCache, type Repository } from '@cellar/cache'
import { CacheGateway, type Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'
import KeyvRedis from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { createCache as cacheManager } from 'cache-manager'
import { Cacheable } from 'cacheable'
import Keyv from 'keyv'

/** A ~200-byte object, the value every contender caches. */
export const USER = {
  id: 48_213,
  name: 'Ada Lovelace',
  email: 'ada.lovelace@example.com',
  roles: ['admin', 'editor'],
  active: true,
  score: 98.5,
  createdAt: '2026-11-21T09:30:00.000Z',
  address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
}
export const KEYS = Array.from({ length: 1_000 }, (_, i) => `user:${i}`)
export const TTL_MS = 60 * 60_000
// Prefixes of one length: a stored key under 13 characters is built as a flat string, a longer
// one as a rope V8 flattens on every lookup, so unequal prefixes would time the key length
// (an earlier run had 'gw' against 'facade' and reported that as facade overhead).
const PREFIXES = { gateway: 'gw-bench', facade: 'fc-bench' } as const
const load = async () => USER

/** One contender: the operations it has (a missing one is not timed). */
export interface Contender {
  readonly name: string
  readonly get?: (key: string) => Promise<unknown>
  readonly put?: (key: string, value: unknown) => Promise<unknown>
  /** Read-through with the value already cached: Laravel's remember, peers' wrap / getOrSet. */
  readonly remember?: (key: string) => Promise<unknown>
  /** A read of an entry written under one tag. */
  readonly tagsGet?: (key: string) => Promise<unknown>
  readonly prepare: () => Promise<void>
  readonly close: () => Promise<void>
}

/** A scenario: its contenders, and how many calls one timed sample makes. */
export interface Scenario {
  readonly name: string
  readonly contenders: Contender[]
  /** Calls per timed sample: enough to dwarf the timer on in-process stores. */
  readonly batch: number
}

// `full`: with `put` (and, for the facade, tagged reads); the tiered rows time reads only.
function gateway(name: string, store: Store<unknown> | Store<Uint8Array>, full = true): Contender {
  const cache = new CacheGateway(store, { prefix: PREFIXES.gateway })
  const padding = new CacheGateway(store, { prefix: 'padding' })
  const fill = async (key: string) => {
    const value = await load()
    await cache.setValue(key, value, TTL_MS)
    return value
  }
  return {
    name,
    get: (key) => cache.getValue(key),
    ...(full && { put: (key: string, value: unknown) => cache.setValue(key, value, TTL_MS) }),
    // What remember does at its core, written by hand on the gateway: the limit for a hit. An
    // in-process store is read without a promise, as the facade does.
    remember:
      store.capabilities.synchronous === true
        ? (key) => {
            const hit = cache.getValueSync(key)
            return hit !== undefined ? Promise.resolve(hit) : fill(key)
          }
        : async (key) => {
            const hit = await cache.getValue(key)
            return hit !== undefined ? hit : fill(key)
          },
    // As many entries as the facade's store holds (its plain and its tagged entries): a bigger
    // table is a slower table, so both sides read from the same size.
    prepare: async () => {
      const entries = KEYS.map((key) => [key, USER] as const)
      await cache.multiSetValues(entries, TTL_MS)
      if (full) await padding.multiSetValues(entries, TTL_MS)
    },
    close: () => cache.close(),
  }
}

function facade(name: string, store: Store<unknown> | Store<Uint8Array>, full = true): Contender {
  const cache = cellarCache({ default: 'main', stores: { main: store }, prefix: PREFIXES.facade })
  const tagged = cache.tags(['users'])
  const main: Repository = cache.store('main')
  return {
    name,
    get: (key) => cache.get(key),
    ...(full && { put: (key: string, value: unknown) => cache.put(key, value, TTL_MS) }),
    remember: (key) => cache.remember(key, TTL_MS, load),
    ...(full && { tagsGet: (key: string) => tagged.get(key) }),
    prepare: async () => {
      await main.putMany(Object.fromEntries(KEYS.map((key) => [key, USER])), TTL_MS)
      if (full) await tagged.putMany(Object.fromEntries(KEYS.map((key) => [key, USER])), TTL_MS)
    },
    close: () => cache.close(),
  }
}

function manager(name: string, store: Keyv): Contender {
  const cache = cacheManager({ stores: [store] })
  return {
    name,
    get: (key) => cache.get(key),
    put: (key, value) => cache.set(key, value, TTL_MS),
    remember: (key) => cache.wrap(key, load, TTL_MS),
    prepare: async () => {
      await Promise.all(KEYS.map((key) => cache.set(key, USER, TTL_MS)))
    },
    close: () => cache.disconnect().then(() => undefined),
  }
}

function bento(
  name: string,
  cache: BentoCache<{ main: ReturnType<typeof bentostore> }>,
): Contender {
  return {
    name,
    get: (key) => cache.get({ key }),
    put: (key, value) => cache.set({ key, value, ttl: TTL_MS }),
    remember: (key) => cache.getOrSet({ key, factory: load, ttl: TTL_MS }),
    tagsGet: (key) => cache.get({ key: `t:${key}` }),
    prepare: async () => {
      await Promise.all(KEYS.map((key) => cache.set({ key, value: USER, ttl: TTL_MS })))
      await Promise.all(
        KEYS.map((key) =>
          cache.set({ key: `t:${key}`, value: USER, ttl: TTL_MS, tags: ['users'] }),
        ),
      )
    },
    close: () => cache.disconnectAll(),
  }
}

function cacheable(name: string, cache: Cacheable): Contender {
  return {
    name,
    get: (key) => cache.get(key),
    put: (key, value) => cache.set(key, value, TTL_MS),
    remember: (key) => cache.getOrSet(key, load, { ttl: TTL_MS }),
    prepare: async () => {
      await Promise.all(KEYS.map((key) => cache.set(key, USER, TTL_MS)))
    },
    close: () => cache.disconnect(),
  }
}

/** In-process: every contender keeps values by reference (no serialization). */
export function memoryScenario(): Scenario {
  const contenders = [
    gateway('gateway (MemoryStore raw)', new MemoryStore({ raw: true })),
    facade('cellar facade (MemoryStore raw)', new MemoryStore({ raw: true })),
    manager('cache-manager 7 (Keyv memory)', new Keyv()),
    bento(
      'BentoCache 1.x (memory, serialize: false)',
      new BentoCache({
        default: 'main',
        stores: {
          main: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })),
        },
      }),
    ),
    cacheable('cacheable (memory)', new Cacheable()),
  ]
  return { name: 'memory', contenders, batch: 256 }
}

/** On one Redis: every contender reads and writes over the network, no in-process tier. */
export function redisScenario(url: string, host: string, port: number): Scenario {
  const contenders = [
    gateway('gateway (RedisStore)', new RedisStore({ connection: url, prefix: 'bench-gw:' })),
    facade(
      'cellar facade (RedisStore)',
      new RedisStore({ connection: url, prefix: 'bench-facade:' }),
    ),
    manager(
      'cache-manager 7 (Keyv redis)',
      new Keyv({ store: new KeyvRedis(url), namespace: 'bench-cm' }),
    ),
    bento(
      'BentoCache 1.x (Redis L2 only)',
      new BentoCache({
        default: 'main',
        prefix: 'bench-bento',
        stores: { main: bentostore().useL2Layer(redisDriver({ connection: { host, port } })) },
      }),
    ),
    cacheable(
      'cacheable (Keyv redis as primary)',
      new Cacheable({
        primary: new Keyv({ store: new KeyvRedis(url), namespace: 'bench-cacheable' }),
      }),
    ),
  ]
  return { name: 'Redis', contenders, batch: 1 }
}

/** A memory L1 over a Redis L2, coherent by a Redis bus: the cellar tiers against BentoCache's. */
export function tieredScenario(url: string, host: string, port: number): Scenario {
  const buses: RedisBus[] = []
  const tiered = () => {
    const bus = new RedisBus({ connection: url })
    buses.push(bus)
    return new TieredStore({
      l1: new MemoryStore(),
      l2: new RedisStore({ connection: url, prefix: `bench-tiered-${randomUUID()}:` }),
      bus,
      channel: `bench-${randomUUID()}`,
      // Longer than the run, so every timed read is an L1 hit.
      l1Ttl: '1h',
    })
  }
  const bento = new BentoCache({
    default: 'main',
    prefix: 'bench-bento-tiers',
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: { host, port } })),
    },
  })
  const contenders: Contender[] = [
    gateway('gateway (TieredStore)', tiered(), false),
    facade('cellar facade (TieredStore)', tiered(), false),
    {
      name: 'BentoCache 1.x (memory L1 + Redis L2)',
      get: (key) => bento.get({ key }),
      remember: (key) => bento.getOrSet({ key, factory: load, ttl: TTL_MS }),
      prepare: async () => {
        await Promise.all(KEYS.map((key) => bento.set({ key, value: USER, ttl: TTL_MS })))
      },
      close: async () => {
        await bento.disconnectAll()
        await Promise.all(buses.map((bus) => bus.close()))
      },
    },
  ]
  return { name: 'tiered (L1 hits)', contenders, batch: 256 }
}
