import { decodeCounter } from '@cellar/core'
import {
  canStartRedisSentinel,
  type RedisSentinelServer,
  startRedisSentinel,
  uniquePrefix,
} from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

// A real redis-sentinel (started by test-servers) in front of a private master: the store finds
// the master through it, as ioredis's `{ sentinels, name }` does in production.
describe.skipIf(!canStartRedisSentinel())('RedisStore through Redis Sentinel', () => {
  let server: RedisSentinelServer
  let master: Redis

  beforeAll(async () => {
    server = await startRedisSentinel()
    master = new Redis(server.master.url)
  })
  afterAll(async () => {
    await master?.quit()
    await server?.stop()
  })

  test('a store it creates from { sentinels, name }: values, counters, keys, a lock, close', async () => {
    const prefix = uniquePrefix('redis-sentinel')
    const store = new RedisStore({
      connection: { sentinels: [...server.sentinels], name: server.name },
      prefix,
    })
    await store.set('k', bytes('v'), 60_000)
    expect(text(await store.get('k'))).toBe('v')
    expect(await master.get(`${prefix}k`)).toBe('v')
    expect((await store.getMany(['k', 'missing'])).map(text)).toEqual(['v', undefined])
    expect(await store.increment('hits', 2, { ttl: 60_000 })).toBe(2)
    expect(decodeCounter(await store.get('hits'))).toBe(2)
    expect(await store.ttl('hits')).toBeGreaterThan(0)
    const listed: string[] = []
    for await (const key of store.keys()) listed.push(key)
    expect(listed.sort()).toEqual(['hits', 'k'])

    const lock = store.lock('job', { ttl: 10_000 })
    const token = await lock.acquire()
    expect(typeof token).toBe('number')
    expect(await store.lock('job').acquire()).toBe(false)
    await lock.release()
    const again = await store.lock('job').acquire()
    expect(again).toBeGreaterThan(token as number)
    await store.lock('job').forceRelease()

    await store.clear()
    expect(await master.exists(`${prefix}k`, `${prefix}hits`)).toBe(0)
    await store.close()
    expect(store.client.status).toBe('end')
  })

  test('a Sentinel client you pass is used as is and left open', async () => {
    const client = new Redis({ sentinels: [...server.sentinels], name: server.name })
    const store = new RedisStore({ connection: client, prefix: uniquePrefix('redis-sentinel') })
    await store.set('k', bytes('mine'))
    expect(text(await store.get('k'))).toBe('mine')
    await store.clear()
    await store.close()
    expect(await client.ping()).toBe('PONG')
    await client.quit()
  })
})
