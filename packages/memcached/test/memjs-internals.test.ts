import { Socket } from 'node:net'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { Client } from 'memjs'
import { afterAll, describe, expect, test } from 'vitest'
import { MemcachedStore, type MemcachedStoreOptions } from '../src/index.js'

// The store leans on two memjs 1.3 internals that @types/memjs does not declare (see the
// README's "memjs internals"). Each test here fails if memjs stops behaving that way.
const memcached = await useMemcached()
const bytes = (text: string) => new TextEncoder().encode(text)
const quiet = { logger: { log() {} } }

type WithSocket = { _socket?: Socket }

/** The socket memjs keeps for the (single) server of `client`. */
function socketOf(client: Client): Socket | undefined {
  return (client.servers[0] as unknown as WithSocket)._socket
}

/** Counts the system-level writes the socket makes (one `_write` or `_writev` call each). */
function countWrites(socket: Socket): { writes: number; restore(): void } {
  const counter = { writes: 0, restore: () => {} }
  const target = socket as unknown as {
    _write: (...args: unknown[]) => unknown
    _writev: (...args: unknown[]) => unknown
  }
  const { _write: write, _writev: writev } = target
  target._write = function (this: unknown, ...args: unknown[]) {
    counter.writes++
    return write.apply(this, args)
  }
  target._writev = function (this: unknown, ...args: unknown[]) {
    counter.writes++
    return writev.apply(this, args)
  }
  counter.restore = () => {
    target._write = write
    target._writev = writev
  }
  return counter
}

describe.skipIf(!memcached)('memjs internals the store relies on', () => {
  const clients: Client[] = []
  const stores: MemcachedStore[] = []
  const open = (options: MemcachedStoreOptions = {}) => {
    const store = new MemcachedStore({ prefix: uniquePrefix('memjs'), ...options })
    stores.push(store)
    return store
  }
  const given = () => {
    const client = Client.create(memcached!.servers, quiet)
    clients.push(client)
    return client
  }
  afterAll(async () => {
    for (const store of stores) await store.close()
    for (const client of clients) client.close()
  })

  /** 50 gets started in one tick: how corked the socket was meanwhile, and how many writes. */
  async function oneTick(store: MemcachedStore) {
    await store.set('k', bytes('v')) // connected, generation read, socket idle again
    const socket = socketOf(store.client)
    expect(socket).toBeInstanceOf(Socket) // `_socket` still holds memjs's socket
    const counter = countWrites(socket!)
    const gets = Array.from({ length: 50 }, () => store.get('k'))
    const corked = socket!.writableCorked
    const values = await Promise.all(gets)
    counter.restore()
    expect(values.every((value) => value !== undefined)).toBe(true)
    return { corked, writes: counter.writes, after: socket!.writableCorked }
  }

  test('_socket: a store-made client is corked for the tick, and 51 requests leave in one write', async () => {
    const store = open({ servers: memcached!.servers })
    expect(await oneTick(store)).toEqual({ corked: 1, writes: 1, after: 0 })
  })

  test('a given client is not corked unless the caller opts in', async () => {
    const plain = open({ client: given() })
    const stats = await oneTick(plain)
    expect(stats.corked).toBe(0)
    expect(stats.writes).toBeGreaterThan(1)
    const opted = open({ client: given(), corkSockets: true })
    expect(await oneTick(opted)).toEqual({ corked: 1, writes: 1, after: 0 })
  })

  test('quiet handlers: a multi-get of hits and misses resolves exactly and leaves no callback', async () => {
    const store = open({ servers: memcached!.servers })
    const keys = Array.from({ length: 500 }, (_, i) => `k${i}`)
    await store.setMany(keys.filter((_, i) => i % 2 === 0).map((key) => [key, bytes(key)]))
    const values = await store.getMany(keys)
    const text = values.map((value) =>
      value === undefined ? null : new TextDecoder().decode(value),
    )
    expect(text).toEqual(keys.map((key, i) => (i % 2 === 0 ? key : null)))
    // memjs dropped the quiet handler at the bodiless NOOP, with its one request deadline.
    const server = store.client.servers[0]!
    expect(Object.keys(server.responseCallbacks)).toEqual([])
    expect(server.requestTimeouts).toEqual([])
  })
})
