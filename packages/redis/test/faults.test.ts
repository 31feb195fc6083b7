import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CellarError, isCellarError } from '@cellar/core'
import {
  assertUnavailable,
  canStartRedis,
  failure,
  type RedisServer,
  recovered,
  startRedis,
  uniquePrefix,
} from '@cellar/test-servers'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const canStart = canStartRedis()

const expectUnavailable = (error: CellarError) => assertUnavailable(error, 'redis')

describe.skipIf(!canStart)('RedisStore when the server goes away', () => {
  let server: RedisServer
  const stores: RedisStore[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  const open = (options: RedisStoreOptions) => {
    const store = new RedisStore({
      connection: server.url,
      prefix: uniquePrefix('faults'),
      ...options,
    })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    server = await startRedis()
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    await server.start()
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await server.stop()
    process.off('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
  })

  test('offline queue on: commands time out with E_BACKEND_UNAVAILABLE, then work again', async () => {
    const store = open({ commandTimeout: 300 })
    // Connected first: on a loaded machine the handshake alone can outlast the 300 ms.
    if (store.client.status !== 'ready') await once(store.client, 'ready')
    await store.set('k', bytes('before'))
    await server.stop()
    const lock = store.lock('job')
    const errors = await Promise.all([
      failure(store.get('k')),
      failure(store.set('k', bytes('during'))),
      failure(store.getMany(['k', 'other'])),
      failure(store.setMany([['k', bytes('during')]], 1_000)),
      failure(store.increment('n')),
      failure(store.clear()),
      failure(lock.acquire()),
    ])
    for (const error of errors) expectUnavailable(error)
    await server.start()
    await recovered(() => store.get('probe'))
    await store.set('k', bytes('after'))
    expect(new TextDecoder().decode(await store.get('k'))).toBe('after')
    expect(await lock.acquire()).not.toBe(false)
    await lock.release()
  })

  test('offline queue on: a command issued while down is sent once the server is back', async () => {
    const store = open({ commandTimeout: 0, maxRetriesPerRequest: null })
    await store.set('k', bytes('before'))
    await server.stop()
    const queued = store.set('k', bytes('queued'))
    await server.start()
    await queued
    expect(new TextDecoder().decode(await store.get('k'))).toBe('queued')
  })

  test('offline queue off: commands fail at once while disconnected, then work again', async () => {
    const store = open({ offlineQueue: false, commandTimeout: 300 })
    // Used straight after construction: the store waits for the first connection.
    await store.set('k', bytes('before'))
    await server.stop()
    for (let attempt = 0; attempt < 200 && store.client.status === 'ready'; attempt++) {
      await sleep(10)
    }
    expect(store.client.status).not.toBe('ready')
    const error = await failure(store.get('k'))
    expectUnavailable(error)
    expect((error.cause as Error).message).toMatch(/enableOfflineQueue/)
    expectUnavailable(await failure(store.lock('job').acquire()))
    await server.start()
    await recovered(() => store.get('probe'))
    await store.set('k', bytes('after'))
    expect(new TextDecoder().decode(await store.get('k'))).toBe('after')
  })

  test('queued commands fail after maxRetriesPerRequest reconnect attempts', async () => {
    const store = open({ commandTimeout: 0, maxRetriesPerRequest: 1 })
    await store.get('k')
    await server.stop()
    const error = await failure(store.get('k'))
    expectUnavailable(error)
    expect((error.cause as Error).name).toBe('MaxRetriesPerRequestError')
  })

  test('close() while reconnecting ends the client and settles queued commands', async () => {
    const store = open({ commandTimeout: 0, maxRetriesPerRequest: null })
    await store.get('k')
    await server.stop()
    for (let attempt = 0; attempt < 200 && store.client.status === 'ready'; attempt++) {
      await sleep(10)
    }
    const queued = failure(store.get('k'))
    await store.close()
    expect(store.client.status).toBe('end')
    expectUnavailable(await queued)
    expect(isCellarError(await failure(store.get('k')), 'E_STORE_CLOSED')).toBe(true)
  })
})
