import { RedisStore } from '../src/index.js'

/**
 * The conformance exit check's child: a RedisStore that opens (and so must close) its own
 * connection, to the server the test passes as CELLAR_EXIT_REDIS_URL.
 */
export function createStore(): RedisStore {
  const url = process.env.CELLAR_EXIT_REDIS_URL
  if (url === undefined) throw new Error('[cellar:redis test] CELLAR_EXIT_REDIS_URL is not set')
  return new RedisStore({ connection: url, prefix: `cellar-test:redis-exit:${process.pid}:` })
}
