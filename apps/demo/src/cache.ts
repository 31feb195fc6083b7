import { type CacheManager, cacheFromEnv } from '@cellar/cache'
import {
  type Bus,
  CacheGateway,
  type DriverEnv,
  envUrl,
  InvalidArgumentError,
  type Store,
  type StoreDriver,
} from '@cellar/core'
import { KnexStore, knexDriver } from '@cellar/knex'
import { MemoryStore, memoryDriver } from '@cellar/memory'
import { RedisBus, RedisStore, redisDriver } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'
import type { Knex } from 'knex'

/** The prefix of every demo key unless `CACHE_PREFIX` says otherwise (flush clears only it). */
export const DEFAULT_CACHE_PREFIX = 'cellar-demo'

/** The cache the environment asks for, and what the layers built on it need. */
export interface DemoCache {
  readonly cache: CacheManager<string>
  /** The configured store name (`memory`, `redis`, `database`, `tiered`). */
  readonly storeName: string
  /** The store and where it lives, without credentials. */
  readonly label: string
  /** The facade's own store (under the prefix), for layers that take a `Store`. */
  readonly store: Store<unknown>
  /** Where the rate limiter keeps its state: the shared tier (Redis itself when tiered). */
  readonly limiterStore: Store<unknown>
  /** Generation counters: the facade's store, or the demo database when that store evicts. */
  readonly counters: CacheGateway
  /** Where the generation counters live, for the dashboard. */
  readonly countersLabel: string
  /** The Redis URL (`REDIS_URL`, `CACHE_URL` or the default), for `CACHE_STORE=redis|tiered`. */
  readonly redisUrl: string
  /** The invalidation bus between instances (`CACHE_STORE=tiered` only). */
  readonly bus: Bus | undefined
  /** Closes the cache, the counter store and the bus. */
  close(): Promise<void>
}

function redactedUrl(text: string | undefined, fallback: string): string {
  if (!text) return fallback
  try {
    const url = new URL(text)
    url.username = ''
    url.password = ''
    return url.href
  } catch {
    return fallback
  }
}

interface TierParts {
  bus?: RedisBus
  l2?: RedisStore
}

/**
 * `CACHE_STORE=tiered`: an in-process `MemoryStore` (L1) in front of a `RedisStore` on
 * `REDIS_URL` (L2), kept coherent between instances by a `RedisBus` on the same server.
 */
function tieredDriver(parts: TierParts): StoreDriver {
  return {
    name: 'tiered',
    packageName: '@cellar/tiered',
    create(env) {
      const variable = env.REDIS_URL ? 'REDIS_URL' : 'CACHE_URL'
      const url = envUrl(env, variable)
      if (url !== undefined && url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
        throw new InvalidArgumentError(
          `[demo] ${variable} must be a redis:// URL for CACHE_STORE=tiered, got ${JSON.stringify(env[variable])}`,
        )
      }
      const connection = url?.href ?? 'redis://127.0.0.1:6379'
      parts.l2 = new RedisStore({ connection })
      // The bus publishes on L2's own client, so a write's message leaves right behind the write
      // (the tiered store's ordered path, `bus.orderedWith(l2)`); the store closes that client.
      parts.bus = new RedisBus({ connection: parts.l2.client })
      return new TieredStore({
        l1: new MemoryStore({ maxEntries: 10_000 }),
        l2: parts.l2,
        bus: parts.bus,
        l1Ttl: '1m',
      })
    },
  }
}

/**
 * `cacheFromEnv` with the drivers the demo ships: `CACHE_STORE` picks memory (default), redis
 * (`REDIS_URL`), database (the demo's own database, through its knex instance) or tiered
 * (memory in front of Redis, with a bus between instances).
 */
export function openCache(env: DriverEnv, db: Knex): DemoCache {
  const prefix = env.CACHE_PREFIX || DEFAULT_CACHE_PREFIX
  const parts: TierParts = {}
  const cache = cacheFromEnv({
    drivers: [memoryDriver, redisDriver, knexDriver, tieredDriver(parts)],
    env: { ...env, CACHE_PREFIX: prefix },
    knex: db,
  })
  const storeName = cache.store().storeName
  const store = cache.store().gateway.store
  const redisUrl = redactedUrl(env.REDIS_URL || env.CACHE_URL, 'redis://127.0.0.1:6379')
  const labels: Record<string, string> = {
    redis: `RedisStore ${redisUrl}`,
    database: 'KnexStore (the demo database)',
    tiered: `TieredStore: MemoryStore L1 + RedisStore L2 ${redisUrl}, RedisBus`,
  }
  // Counters must never be evicted (@cellar/generational refuses such a store): the in-process
  // memory store is LRU-bounded, so its counters live in the demo's database instead.
  let counterStore: KnexStore | undefined
  let counters: CacheGateway
  if (store.capabilities.evicts) {
    counterStore = new KnexStore({ knex: db, prefix: `${prefix}:generations:` })
    counters = new CacheGateway(counterStore)
  } else {
    counters = new CacheGateway(store.namespace('generations'))
  }
  return {
    cache,
    storeName,
    label: labels[storeName] ?? 'MemoryStore (in-process)',
    store,
    limiterStore: parts.l2?.namespace(prefix) ?? store,
    counters,
    countersLabel: counterStore === undefined ? 'the cache store' : 'KnexStore (the demo database)',
    redisUrl: env.REDIS_URL || env.CACHE_URL || 'redis://127.0.0.1:6379',
    bus: parts.bus,
    async close() {
      await cache.close()
      await counterStore?.close()
      await parts.bus?.close()
    },
  }
}
