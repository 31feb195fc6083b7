import { MemcachedStore } from '../src/index.js'

/**
 * The conformance exit check's child: a MemcachedStore that opens (and so must close) its own
 * client, to the servers the test passes as CELLAR_EXIT_MEMCACHED.
 */
export function createStore(): MemcachedStore {
  const servers = process.env.CELLAR_EXIT_MEMCACHED
  if (servers === undefined) {
    throw new Error('[cellar:memcached test] CELLAR_EXIT_MEMCACHED is not set')
  }
  return new MemcachedStore({ servers, prefix: `cellar-test:memcached-exit:${process.pid}:` })
}
