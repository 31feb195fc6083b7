import { randomUUID } from 'node:crypto'
import { useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { RedisBus, RedisStore } from '../src/index.js'

const redis = await useRedis()

describe.skipIf(!redis)('RedisBus.orderedWith: a message that cannot overtake a write', () => {
  const closing: Array<() => unknown> = []
  // Stores and buses close; clients disconnect (one without offline queue may not be ready).
  const later = <T extends { close(): Promise<void> } | Redis>(handle: T): T => {
    closing.push(() => (handle instanceof Redis ? handle.disconnect() : handle.close()))
    return handle
  }
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close()
  })

  test('true for a RedisStore and its namespaces on the bus’s own client; false once closed', async () => {
    const client = later(new Redis(redis!.url))
    const store = later(new RedisStore({ connection: client, prefix: `order-${randomUUID()}:` }))
    const bus = new RedisBus({ connection: client })
    expect(bus.orderedWith(store)).toBe(true)
    expect(bus.orderedWith(store.namespace('tenant'))).toBe(true)
    await bus.close()
    expect(bus.orderedWith(store)).toBe(false)
  })

  test('false for a store on another connection, and for clients that may reorder or refuse', async () => {
    const prefix = `order-${randomUUID()}:`
    const bus = later(new RedisBus({ connection: redis!.url }))
    const apart = later(new RedisStore({ connection: redis!.url, prefix }))
    expect(bus.orderedWith(apart)).toBe(false)
    // Auto-pipelining queues commands per tick; without the offline queue a store may wait
    // for the first connection before sending its write: neither is one ordered stream.
    for (const options of [{ enableAutoPipelining: true }, { enableOfflineQueue: false }]) {
      const client = later(new Redis(redis!.url, options))
      const store = later(new RedisStore({ connection: client, prefix }))
      const onIt = later(new RedisBus({ connection: client }))
      expect(onIt.orderedWith(store)).toBe(false)
    }
  })

  test('on one client, a subscriber that reads after each message always finds the write', async () => {
    const prefix = `order-${randomUUID()}:`
    const channel = `order-${randomUUID()}`
    const client = later(new Redis(redis!.url))
    const store = later(new RedisStore({ connection: client, prefix }))
    const bus = later(new RedisBus({ connection: client }))
    expect(bus.orderedWith(store)).toBe(true)
    // The other side: its own connections, reading the key as each message arrives.
    const reader = later(new RedisStore({ connection: redis!.url, prefix }))
    const listener = later(new RedisBus({ connection: redis!.url }))
    const seen: Array<Promise<[number, number]>> = []
    let delivered!: () => void
    let done = new Promise<void>((resolve) => {
      delivered = resolve
    })
    await listener.subscribe(channel, (message) => {
      const sent = Number(message)
      seen.push(reader.get('k').then((bytes) => [sent, Number(new TextDecoder().decode(bytes))]))
      delivered()
    })
    const writes = 300
    for (let i = 1; i <= writes; i++) {
      // The write is not awaited before the publish: both leave in this tick, in this order.
      const written = store.set('k', new TextEncoder().encode(String(i)), '1m')
      const published = bus.publish(channel, String(i))
      await Promise.all([written, published, done])
      done = new Promise<void>((resolve) => {
        delivered = resolve
      })
    }
    const reads = await Promise.all(seen)
    expect(reads).toHaveLength(writes)
    expect(reads.filter(([sent, found]) => found < sent)).toEqual([])
  })
})
