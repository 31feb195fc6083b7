import { InvalidArgumentError, type StoreDriver } from '@cellar/core'
import { MemcachedStore } from './memcached-store.js'

const SERVER = /^[^\s,:]+:\d{1,5}$/

/** `CACHE_STORE=memcached`: a `MemcachedStore` on `MEMCACHED_SERVERS` (`host:port[,host:port]`). */
export const memcachedDriver: StoreDriver = {
  name: 'memcached',
  packageName: '@cellar/memcached',
  create(env) {
    const servers = env.MEMCACHED_SERVERS?.trim() || '127.0.0.1:11211'
    for (const server of servers.split(',')) {
      if (!SERVER.test(server.trim())) {
        throw new InvalidArgumentError(
          `[cellar:memcached] MEMCACHED_SERVERS must be host:port[,host:port], got ${JSON.stringify(env.MEMCACHED_SERVERS)}`,
        )
      }
    }
    return new MemcachedStore({ servers })
  },
}
