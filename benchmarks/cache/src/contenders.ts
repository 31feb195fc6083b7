import { createCache as cellarCache, type Repository } from '@cellar/cache'
import { CacheGateway, type Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
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

function gateway(name: string, store: Store<unknown> | Store<Uint8Array>): Contender {
  const cache = new CacheGateway(store, { prefix: 'gw' })
  return {
    name,
    get: (key) => cache.getValue(key),
    put: (key, value) => cache.setValue(key, value, TTL_MS),
    // What remember does at its core, written by hand on the gateway: the limit for a hit.
    remember: async (key) => {
      const hit = await cache.getValue(key)
      if (hit !== undefined) return hit
      const value = await load()
      await cache.setValue(key, value, TTL_MS)
      return value
    },
    prepare: () =>
      cache.multiSetValues(
        KEYS.map((key) => [key, USER] as const),
        TTL_MS,
      ),
    close: () => cache.close(),
  }
}

function facade(name: string, store: Store<unknown> | Store<Uint8Array>): Contender {
  const cache = cellarCache({ default: 'main', stores: { main: store }, prefix: 'facade' })
  const tagged = cache.tags(['users'])
  const main: Repository = cache.store('main')
  return {
    name,
    get: (key) => cache.get(key),
    put: (key, value) => cache.put(key, value, TTL_MS),
    remember: (key) => cache.remember(key, TTL_MS, load),
    tagsGet: (key) => tagged.get(key),
    prepare: async () => {
      await main.putMany(Object.fromEntries(KEYS.map((key) => [key, USER])), TTL_MS)
      await tagged.putMany(Object.fromEntries(KEYS.map((key) => [key, USER])), TTL_MS)
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
export function memoryContenders(): Contender[] {
  return [
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
}

/** On one Redis: every contender reads and writes over the network, no in-process tier. */
export function redisContenders(url: string, host: string, port: number): Contender[] {
  return [
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
}
