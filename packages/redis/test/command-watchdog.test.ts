import { once } from 'node:events'
import { isCellarError } from '@cellar/core'
import {
  assertUnavailable,
  canStartRedis,
  failure,
  type RedisServer,
  startRedis,
  uniquePrefix,
} from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { timeCommands, watchdogPeriod } from '../src/command-watchdog.js'
import { RedisStore, type RedisStoreOptions } from '../src/index.js'

const canStart = canStartRedis()

async function ready(store: RedisStore): Promise<void> {
  if (store.client.status !== 'ready') await once(store.client, 'ready')
}
// How long the server holds commands in the tests that pause it: many times their timeout.
const PAUSE_MS = 5_000

// commandTimeout on a client the store creates is kept by one watchdog per client instead of
// ioredis's timer per command (see src/command-watchdog.ts).
describe.skipIf(!canStart)('commandTimeout without a timer per command', () => {
  let server: RedisServer
  let admin: Redis
  const stores: RedisStore[] = []
  const open = (options: RedisStoreOptions) => {
    const store = new RedisStore({ connection: server.url, prefix: uniquePrefix('wd'), ...options })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    server = await startRedis()
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await admin.quit()
    await server.stop()
  })

  test('ioredis arms no timer of its own on a created client', () => {
    for (const store of [open({ commandTimeout: 300 }), open({})]) {
      expect((store.client as Redis).options.commandTimeout).toBeUndefined()
    }
  })

  test('a command the server does not answer fails with E_BACKEND_UNAVAILABLE, then the store works again', async () => {
    const store = open({ commandTimeout: 1_000 })
    const lock = store.lock('job')
    // Connected first: on a loaded machine the handshake alone can take a while.
    await ready(store)
    await store.set('k', new Uint8Array([1]))
    // The server holds every client's commands for far longer than the timeout (an UNPAUSE
    // would be held too, so the pause simply runs out): only the watchdog can end these calls.
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    const errors = await Promise.all([failure(store.get('k')), failure(lock.acquire())])
    for (const error of errors) {
      assertUnavailable(error, 'redis')
      expect((error.cause as Error).message).toBe('Command timed out')
    }
    // The admin client has no timeout: its PING is answered when the pause is over.
    await admin.ping()
    expect(await store.get('k')).toEqual(new Uint8Array([1]))
    expect(await lock.acquire()).not.toBe(false)
    await lock.release()
  })

  test('commandTimeout 0 waits for the reply however long it takes', async () => {
    const store = open({ commandTimeout: 0 })
    await store.set('k', new Uint8Array([2]))
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    const read = store.get('k')
    let settled = false
    void read.then(
      () => (settled = true),
      () => (settled = true),
    )
    // Several watchdog periods of the shortest timeout pass without the read settling.
    await new Promise((resolve) => setTimeout(resolve, 10 * watchdogPeriod(1)))
    expect(settled).toBe(false)
    expect(await read).toEqual(new Uint8Array([2]))
  })

  test('a client without the queues the watchdog reads gets ioredis’s own per-command timer', () => {
    const client = new Redis(server.url, { lazyConnect: true })
    try {
      const moved = Object.create(client, {
        commandQueue: { value: undefined },
        options: { value: { ...client.options } },
      }) as Redis
      expect(timeCommands(moved, 750)).toBeUndefined()
      expect(moved.options.commandTimeout).toBe(750)
      const watched = timeCommands(client, 750)
      expect(watched).toBeDefined()
      clearInterval(watched)
      expect(client.options.commandTimeout).toBeUndefined()
    } finally {
      client.disconnect()
    }
  })

  test('the watchdog looks a tenth of the timeout apart, between 5 and 500 ms', () => {
    expect(watchdogPeriod(5_000)).toBe(500)
    expect(watchdogPeriod(300)).toBe(30)
    expect(watchdogPeriod(20)).toBe(5)
    expect(watchdogPeriod(60_000)).toBe(500)
  })

  test('closing the store stops the watchdog with the client', async () => {
    const store = open({ commandTimeout: 100 })
    await store.get('k')
    await store.close()
    expect(store.client.status).toBe('end')
    expect(isCellarError(await failure(store.get('k')), 'E_STORE_CLOSED')).toBe(true)
  })
})
