import { describeLock, describeStore } from '@cellar/conformance'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
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
    sibling: (store: unknown) =>
      new MemcachedStore({
        servers: memcached!.servers,
        prefix: (store as MemcachedStore).prefix,
      }),
  }
  describeStore(runner, factory, options)
  describeLock(runner, factory, options)
})
