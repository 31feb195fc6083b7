import { type CacheManager, cacheFromEnv } from '@cellar/cache'
import type { DriverEnv } from '@cellar/core'
import { knexDriver } from '@cellar/knex'
import { memoryDriver } from '@cellar/memory'
import { redisDriver } from '@cellar/redis'
import type { Knex } from 'knex'

/** The prefix of every demo key unless `CACHE_PREFIX` says otherwise (flush clears only it). */
export const DEFAULT_CACHE_PREFIX = 'cellar-demo'

/** The cache the environment asks for, and how to name it on the dashboard. */
export interface DemoCache {
  readonly cache: CacheManager<string>
  /** The configured store name (`memory`, `redis`, `database`). */
  readonly storeName: string
  /** The store and where it lives, without credentials. */
  readonly label: string
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

/**
 * `cacheFromEnv` with the drivers the demo ships: `CACHE_STORE` picks memory (default), redis
 * (`REDIS_URL`) or database (the demo's own database, through its knex instance).
 */
export function openCache(env: DriverEnv, db: Knex): DemoCache {
  const withPrefix: DriverEnv = { ...env, CACHE_PREFIX: env.CACHE_PREFIX || DEFAULT_CACHE_PREFIX }
  const cache = cacheFromEnv({
    drivers: [memoryDriver, redisDriver, knexDriver],
    env: withPrefix,
    knex: db,
  })
  const storeName = cache.store().storeName
  const label =
    storeName === 'redis'
      ? `RedisStore ${redactedUrl(env.REDIS_URL || env.CACHE_URL, 'redis://127.0.0.1:6379')}`
      : storeName === 'database'
        ? 'KnexStore (the demo database)'
        : 'MemoryStore (in-process)'
  return { cache, storeName, label }
}
