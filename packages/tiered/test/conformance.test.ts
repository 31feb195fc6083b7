import { randomUUID } from 'node:crypto'
import { describeStore } from '@cellar/conformance'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, test } from 'vitest'
import { TieredStore } from '../src/index.js'

const runner = { describe, test, beforeEach, afterEach }
const redis = await useRedis()
const bus = redis && new RedisBus({ connection: redis.url })
// L2 and bus on one client: writes and their messages leave together (`RedisBus.orderedWith`).
const client = redis && new Redis(redis.url)
const sharedBus = client && new RedisBus({ connection: client })
afterAll(async () => {
  await bus?.close()
  await sharedBus?.close()
  await client?.quit()
})

describe('single instance (no bus), memory over memory', () => {
  describeStore(
    runner,
    () =>
      new TieredStore({
        l1: new MemoryStore({ pruneInterval: false }),
        l2: new MemoryStore({ pruneInterval: false }),
        bus: null,
      }),
    { name: 'tiered (memory over memory)' },
  )
})

describe.skipIf(!redis)('memory over Redis, with the Redis bus', () => {
  describeStore(
    runner,
    () =>
      new TieredStore({
        l1: new MemoryStore({ pruneInterval: false }),
        l2: new RedisStore({ connection: redis!.url, prefix: `tiered-${randomUUID()}:` }),
        bus: bus!,
        channel: `tiered-${randomUUID()}`,
      }),
    { name: 'tiered (memory over Redis)' },
  )
})

describe.skipIf(!redis)('memory over Redis, L2 and bus on one client', () => {
  describeStore(
    runner,
    () =>
      new TieredStore({
        l1: new MemoryStore({ pruneInterval: false }),
        l2: new RedisStore({ connection: client!, prefix: `tiered-${randomUUID()}:` }),
        bus: sharedBus!,
        channel: `tiered-${randomUUID()}`,
      }),
    { name: 'tiered (memory over Redis, one client)' },
  )
})
