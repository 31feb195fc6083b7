import { fileURLToPath } from 'node:url'
import { describeLock, describeStore, type FaultHook } from '@cellar/conformance'
import {
  canStartMemcached,
  type MemcachedServer,
  startMemcached,
  uniquePrefix,
  useMemcached,
} from '@cellar/test-servers'
import { Client } from 'memjs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'

const memcached = await useMemcached()
const runner = { describe, test, beforeEach, afterEach, beforeAll, afterAll }

describe.skipIf(!memcached)('MemcachedStore conformance', () => {
  // One client shared by every store of the suite (a given client is never closed by a store);
  // the sibling opens a client of its own over the same prefix.
  const client = memcached ? Client.create(memcached.servers, { logger: { log() {} } }) : undefined
  afterAll(() => client?.close())
  const factory = () => new MemcachedStore({ client: client!, prefix: uniquePrefix('memcached') })
  const options = {
    name: 'memcached',
    sibling: (store: MemcachedStore) =>
      new MemcachedStore({ servers: memcached!.servers, prefix: store.prefix }),
  }
  // A child process builds a MemcachedStore from this module, closes its gateway and must exit.
  const exit = {
    module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: { CELLAR_EXIT_MEMCACHED: memcached?.servers ?? '' },
  }
  describeStore(runner, factory, { ...options, faults: memcachedFaults(), exit })
  describeLock(runner, factory, options)
})

/**
 * The conformance faults hook: stores with default options on a private memcached (started on
 * first use, on a free port), which `stop()` kills and `start()` brings back on that port.
 */
function memcachedFaults(): FaultHook | undefined {
  if (!canStartMemcached()) return undefined
  let server: Promise<MemcachedServer> | undefined
  const started = () => {
    server ??= startMemcached()
    return server
  }
  return {
    factory: async () =>
      new MemcachedStore({
        servers: (await started()).servers,
        prefix: uniquePrefix('memcached-faults'),
      }),
    stop: async () => (await started()).stop(),
    start: async () => (await started()).start(),
  }
}
