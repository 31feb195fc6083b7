import { decodeCounter } from '@cellar/core'
import {
  canStartMemcached,
  type MemcachedServer,
  startMemcached,
  uniquePrefix,
} from '@cellar/test-servers'
import { Client } from 'memjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined | null) =>
  value == null ? undefined : new TextDecoder().decode(value)
const quiet = { logger: { log() {} } }

/** How many items a server holds (`curr_items`). */
function itemCount(server: MemcachedServer): Promise<number> {
  const client = Client.create(server.servers, quiet)
  return new Promise((resolve, reject) => {
    client.stats((error, _, stats) => {
      client.close()
      if (error || !stats) reject(error ?? new Error('no stats'))
      else resolve(Number(stats.curr_items))
    })
  })
}

// Private servers: these tests count items and flush, which must not disturb other suites.
describe.skipIf(!canStartMemcached())('MemcachedStore over a server list', () => {
  let one: MemcachedServer
  let two: MemcachedServer
  const stores: MemcachedStore[] = []
  const open = (servers: string | string[]) => {
    const store = new MemcachedStore({ servers, prefix: uniquePrefix('memcached') })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    one = await startMemcached()
    two = await startMemcached()
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await one?.stop()
    await two?.stop()
  })

  test('keys spread across both servers, and every operation finds them', async () => {
    const store = open([one.servers, two.servers])
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`)
    await store.setMany(keys.map((key) => [key, bytes(key)]))
    const [onOne, onTwo] = [await itemCount(one), await itemCount(two)]
    expect(onOne).toBeGreaterThan(10)
    expect(onTwo).toBeGreaterThan(10)
    const got = await store.getMany(keys)
    expect(got.map(text)).toEqual(keys)
    expect(await store.increment('counter', 3)).toBe(3)
    expect(await store.increment('counter', -5)).toBe(-2)
    expect(await store.deleteMany(keys.slice(0, 50))).toBe(50)
    expect((await store.getMany(keys)).filter(Boolean)).toHaveLength(50)
  })

  test('clear hides the keys on every server, namespaces included', async () => {
    const store = open(`${one.servers},${two.servers}`)
    const child = store.namespace('child')
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
    await store.setMany(keys.map((key) => [key, bytes('v')]))
    await child.setMany(keys.map((key) => [key, bytes('c')]))
    await store.clear()
    expect((await store.getMany(keys)).filter(Boolean)).toEqual([])
    expect((await child.getMany(keys)).filter(Boolean)).toEqual([])
  })

  test('a second client with the same list reads the same keys', async () => {
    const store = open([one.servers, two.servers])
    const other = new MemcachedStore({ servers: [one.servers, two.servers], prefix: store.prefix })
    stores.push(other)
    for (let i = 0; i < 20; i++) await store.increment(`n${i}`, i)
    for (let i = 0; i < 20; i++) expect(decodeCounter(await other.get(`n${i}`))).toBe(i)
  })

  test('flushAll empties every server of the list, foreign keys included', async () => {
    const store = open([one.servers, two.servers])
    const raw = Client.create(one.servers, quiet)
    await raw.set('foreign', 'x')
    await store.set('k', bytes('v'))
    await store.flushAll()
    expect((await raw.get('foreign')).value).toBeNull()
    expect(await store.get('k')).toBeUndefined()
    raw.close()
  })
})
