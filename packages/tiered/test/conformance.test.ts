import { randomUUID } from 'node:crypto'
import { describeStore } from '@cellar/conformance'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { afterAll, afterEach, beforeEach, describe, test } from 'vitest'
import { TieredStore } from '../src/index.js'

const runner = { describe, test, beforeEach, afterEach }
const redis = await useRedis()
const bus = redis && new RedisBus({ connection: redis.url })
afterAll(() => bus?.close())

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
