import { envUrl, InvalidArgumentError, type StoreDriver } from '@cellar/core'
import { RedisStore } from './redis-store.js'
import type { RedisClient } from './types.js'

/**
 * `CACHE_STORE=redis`: a `RedisStore` on the client the app passes (`context.client`, never
 * closed by the store), else on `REDIS_URL` (or `CACHE_URL`), else `redis://127.0.0.1:6379`.
 */
export const redisDriver: StoreDriver = {
  name: 'redis',
  packageName: '@cellar/redis',
  create(env, context) {
    if (context?.client !== undefined)
      return new RedisStore({ connection: context.client as RedisClient })
    const variable = env.REDIS_URL ? 'REDIS_URL' : 'CACHE_URL'
    const url = envUrl(env, variable)
    if (url !== undefined && url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new InvalidArgumentError(
        `[cellar:redis] ${variable} must be a redis:// or rediss:// URL, got ${JSON.stringify(env[variable])}`,
      )
    }
    return new RedisStore({ connection: url?.href ?? 'redis://127.0.0.1:6379' })
  },
}
