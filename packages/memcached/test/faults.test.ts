import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CellarError, isCellarError } from '@cellar/core'
import {
  assertUnavailable,
  canStartMemcached,
  failure,
  freePort,
  type MemcachedServer,
  recovered,
  startMemcached,
  uniquePrefix,
} from '@cellar/test-servers'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { MemcachedStore, type MemcachedStoreOptions } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)

const expectUnavailable = (error: CellarError) => assertUnavailable(error, 'memcached')

/** A TCP server on loopback that does `onSocket` with every connection (a broken memcached). */
async function fakeServer(onSocket: (socket: Socket) => void): Promise<[Server, string]> {
  const port = await freePort()
  const server = createServer(onSocket)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return [server, `127.0.0.1:${port}`]
}

describe.skipIf(!canStartMemcached())('MemcachedStore when the server goes away', () => {
  let server: MemcachedServer
  const stores: MemcachedStore[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  const open = (options: MemcachedStoreOptions = {}) => {
    const store = new MemcachedStore({
      servers: server.servers,
      prefix: uniquePrefix('faults'),
      timeout: 300,
      connectTimeout: 300,
      ...options,
    })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    server = await startMemcached()
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

  test('every operation fails with E_BACKEND_UNAVAILABLE, then works again', async () => {
    const store = open()
    await store.set('k', bytes('before'))
    await server.stop()
    const lock = store.lock('job')
    const errors = await Promise.all([
      failure(store.get('k')),
      failure(store.set('k', bytes('during'))),
      failure(store.getMany(['k', 'other'])),
      failure(store.setMany([['k', bytes('during')]], 1_000)),
      failure(store.add('a', bytes('v'))),
      failure(store.has('k')),
      failure(store.delete('k')),
      failure(store.deleteMany(['k'])),
      failure(store.increment('n')),
      failure(store.increment('n', -1)),
      failure(store.increment('w', 1, { ttl: '1m' })),
      failure(store.touch('k', '1m')),
      failure(store.ttl('k')),
      failure(store.clear()),
      failure(lock.acquire()),
      failure(lock.isLocked()),
    ])
    for (const error of errors) expectUnavailable(error)
    await server.start()
    await recovered(() => store.get('probe'))
    await store.set('k', bytes('after'))
    expect(new TextDecoder().decode(await store.get('k'))).toBe('after')
    expect(await store.increment('n')).toBe(1)
    expect(await lock.acquire()).not.toBe(false)
  })

  test('operations in flight when the server stops settle, typed, and none hangs', async () => {
    const store = open()
    await store.set('k', bytes('v'))
    const running = Array.from({ length: 200 }, (_, i) =>
      (i % 2 === 0 ? store.get('k') : store.increment('n')).then(
        () => 'ok',
        (error: unknown) => (isCellarError(error) ? error.code : `untyped: ${String(error)}`),
      ),
    )
    await server.stop()
    const outcomes = new Set(await Promise.all(running))
    for (const outcome of outcomes) expect(['ok', 'E_BACKEND_UNAVAILABLE']).toContain(outcome)
    await server.start()
    await recovered(() => store.get('probe'))
  })

  test('a server that never answers times out with E_BACKEND_UNAVAILABLE', async () => {
    const sockets: Socket[] = []
    const [silent, address] = await fakeServer((socket) => sockets.push(socket))
    const store = open({ servers: address, retries: 1 })
    expectUnavailable(await failure(store.get('k')))
    expectUnavailable(await failure(store.increment('k')))
    await store.close()
    for (const socket of sockets) socket.destroy()
    silent.close()
  })

  test('a server that hangs up without answering fails the request (watchdog)', async () => {
    // memjs sees a clean close, not an error, and would wait forever for these answers.
    const [rude, address] = await fakeServer((socket) => socket.once('data', () => socket.end()))
    const store = open({ servers: address, retries: 1 })
    expectUnavailable(await failure(store.get('k')))
    expectUnavailable(await failure(store.getMany(['a', 'b'])))
    await store.close()
    rude.close()
  })

  test('close() fails what is still waiting instead of leaving it pending', async () => {
    const sockets: Socket[] = []
    const [silent, address] = await fakeServer((socket) => sockets.push(socket))
    const store = open({ servers: address, timeout: 60_000, connectTimeout: 60_000 })
    const pending = failure(store.get('k'))
    await sleep(50)
    await store.close()
    expectUnavailable(await pending)
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
})
