import { once } from 'node:events'
import { createRequire } from 'node:module'
import {
  assertUnavailable,
  canStartRedis,
  failure,
  type RedisServer,
  startRedis,
  uniquePrefix,
} from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'

// close() of a created client that waits between reconnect attempts finishes the close with
// two ioredis internals, `setStatus('end')` and `flushQueue(error)` (README, "Driver
// internals"). These tests park a client in `reconnecting` for a minute, so close() always
// takes that path, and fail if the internals went away or stopped ending the client; the
// first fails once ioredis ends such a client by itself, when the workaround can go.

// ioredis 6.1.0 ends such a client by itself; 5.x and 6.0 (still in the peer range) do not.
const { version } = createRequire(import.meta.url)(
  `${process.env.CELLAR_IOREDIS ?? 'ioredis'}/package.json`,
) as { version: string }
const [major = 0, minor = 0] = version.split('.').map(Number)
const endsParkedClients = major > 6 || (major === 6 && minor >= 1)

/** Parks between reconnect attempts for a minute, so the state cannot move under the test. */
const PARKED = { retryStrategy: () => 60_000, maxRetriesPerRequest: null }

type Internals = { setStatus?: unknown; flushQueue?: unknown }

describe.skipIf(!canStartRedis())(
  'ioredis internals used by close() of a reconnecting client',
  () => {
    let server: RedisServer
    let address: { host: string; port: number }

    beforeAll(async () => {
      server = await startRedis()
      const url = new URL(server.url)
      address = { host: url.hostname, port: Number(url.port) }
    })
    beforeEach(async () => {
      // Each test stops the server; bring it back (start() resolves once it answers).
      await server.start()
    })
    afterAll(async () => {
      await server?.stop()
    })

    /** Connects `client`, stops the server and resolves once the client waits to reconnect. */
    async function park(client: Redis): Promise<void> {
      if (client.status !== 'ready') await once(client, 'ready')
      const waiting = once(client, 'reconnecting')
      await server.stop()
      await waiting
      expect(client.status).toBe('reconnecting')
    }

    /** Queues a command on the parked `client`, disconnects it, then waits a few turns. */
    async function disconnectParked(client: Redis) {
      let settled = false
      const queued = client.get('k').then(
        () => (settled = true),
        () => (settled = true),
      )
      client.disconnect()
      // Give ioredis every chance to finish on its own: a few event-loop turns.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve))
      return { status: client.status, settled, queued }
    }

    test.skipIf(endsParkedClients)(
      `ioredis ${version} alone leaves a parked client unended: disconnect() emits no end, a queued command stays pending`,
      async () => {
        const client = new Redis({ ...address, ...PARKED })
        client.on('error', () => {})
        await park(client)
        const { status, settled, queued } = await disconnectParked(client)
        expect(
          { status, settled },
          'ioredis now ends a client disconnected while reconnecting: the setStatus/flushQueue workaround in src/connection.ts is needed only for older versions',
        ).not.toEqual({ status: 'end', settled: true })
        // Clean up the way the store does, so nothing stays pending.
        const internals = client as unknown as {
          setStatus(status: string): void
          flushQueue(error: Error): void
        }
        internals.setStatus('end')
        internals.flushQueue(new Error('Connection is closed.'))
        await queued
        expect(client.status).toBe('end')
      },
    )

    test.runIf(endsParkedClients)(
      `ioredis ${version} ends a parked client by itself: disconnect() ends it and settles a queued command`,
      async () => {
        const client = new Redis({ ...address, ...PARKED })
        client.on('error', () => {})
        await park(client)
        const { status, settled } = await disconnectParked(client)
        expect(
          { status, settled },
          'this ioredis no longer ends a client disconnected while reconnecting: the workaround in src/connection.ts is needed again',
        ).toEqual({ status: 'end', settled: true })
      },
    )

    test('the store ends its parked client through setStatus and flushQueue, and settles what was queued', async () => {
      const store = new RedisStore({
        connection: { ...address, ...PARKED },
        prefix: uniquePrefix('redis-int-close'),
        commandTimeout: 0,
      })
      const client = store.client as Redis
      await store.set('k', new Uint8Array([1]))
      await park(client)
      const internals = client as unknown as Internals
      expect(typeof internals.setStatus, 'ioredis Redis#setStatus is gone').toBe('function')
      expect(typeof internals.flushQueue, 'ioredis Redis#flushQueue is gone').toBe('function')
      const queued = failure(store.get('k'))
      const ended = once(client, 'end')
      await store.close()
      expect(client.status).toBe('end')
      await ended
      assertUnavailable(await queued, 'redis')
      expect((await queued).cause).toMatchObject({ message: 'Connection is closed.' })
    })
  },
)
