import { setTimeout as sleep } from 'node:timers/promises'
import { isCellarError } from '@cellar/core'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { Client } from 'memjs'
import { afterAll, describe, expect, test } from 'vitest'
import { MemcachedStore, memcachedKey } from '../src/index.js'
import { counterExtras, Op, Status, storeExtras, Wire } from '../src/wire.js'

const memcached = await useMemcached()

describe.skipIf(!memcached)('MemcachedStore locks', () => {
  const raw = Client.create(memcached?.servers, { logger: { log() {} } })
  const stores: MemcachedStore[] = []
  const open = (prefix = uniquePrefix('memcached-lock')) => {
    const store = new MemcachedStore({ servers: memcached!.servers, prefix })
    stores.push(store)
    return store
  }
  afterAll(async () => {
    for (const store of stores) await store.close()
    raw.close()
  })

  test('the lock is an item <prefix>__lock:<name> holding "<expiresAt>:<owner>"', async () => {
    const store = open()
    const lock = store.lock('job', { ttl: 10_000, owner: 'me' })
    const before = Date.now()
    await lock.acquire()
    const value = (await raw.get(`${store.prefix}__lock:job`)).value?.toString()
    const [at, owner] = value!.split(':')
    expect(owner).toBe('me')
    expect(Number(at)).toBeGreaterThanOrEqual(before + 10_000)
    expect(Number(at)).toBeLessThanOrEqual(Date.now() + 10_000)
  })

  test('locks survive clear(): a cleared store cannot hand out a held lock twice', async () => {
    const store = open()
    const first = store.lock('job')
    expect(await first.acquire()).not.toBe(false)
    await store.clear()
    expect(await store.lock('job').acquire()).toBe(false)
    await first.release()
  })

  test('expiry is judged to the millisecond, before memcached drops the item', async () => {
    const store = open()
    const first = store.lock('job', { ttl: 300 })
    const token = await first.acquire()
    await sleep(400)
    // memcached still holds the item (TTLs are whole seconds); the stored expiry has passed.
    expect((await raw.get(`${store.prefix}__lock:job`)).value).not.toBeNull()
    expect(await first.isLocked()).toBe(false)
    const second = store.lock('job', { ttl: 10_000 })
    expect(await second.acquire()).toBeGreaterThan(token as number)
    await expect(first.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    expect(await second.isOwned()).toBe(true)
  })

  test('release and extend never touch a lock rewritten by someone else', async () => {
    const store = open()
    const mine = store.lock('job', { ttl: 10_000, owner: 'mine' })
    await mine.acquire()
    // Another owner takes over behind our back (as after an expiry and a takeover).
    await raw.set(`${store.prefix}__lock:job`, `${Date.now() + 10_000}:theirs`)
    await expect(mine.extend()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    await expect(mine.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    const value = (await raw.get(`${store.prefix}__lock:job`)).value?.toString()
    expect(value?.endsWith(':theirs')).toBe(true)
  })

  test('the server refuses DELETE, SET and DECR carrying a stale CAS (what locks rely on)', async () => {
    const wire = new Wire(raw, 5_000)
    const key = `${uniquePrefix('memcached-cas')}k`
    await raw.set(key, '5')
    const read = await wire.send(Op.GET, key, undefined)
    await raw.set(key, '6') // someone else writes between our read and our act
    const stale = read.header.cas
    const extras = storeExtras(0, 0)
    const attempts = [
      await wire.send(Op.DELETE, key, undefined, undefined, undefined, stale),
      await wire.send(Op.SET, key, undefined, extras, Buffer.from('7'), stale),
      await wire.send(Op.DECR, key, undefined, counterExtras(1, 0, 0xffffffff), undefined, stale),
    ]
    for (const response of attempts) expect(response.header.status).toBe(Status.EXISTS)
    expect((await raw.get(key)).value?.toString()).toBe('6')
    const fresh = (await wire.send(Op.GET, key, undefined)).header.cas
    const removed = await wire.send(Op.DELETE, key, undefined, undefined, undefined, fresh)
    expect(removed.header.status).toBe(Status.OK)
    wire.close()
  })

  test('two clients: one holder at a time, and the owner token restores the lock', async () => {
    const a = open()
    const b = open(a.prefix)
    const held = a.lock('job', { ttl: 10_000 })
    expect(await held.acquire()).not.toBe(false)
    expect(await b.lock('job').acquire()).toBe(false)
    const restored = b.lock('job', { owner: held.owner })
    expect(await restored.isOwned()).toBe(true)
    await restored.extend(20_000)
    expect(await restored.remainingTime()).toBeGreaterThan(10_000)
    await restored.release()
    expect(await b.lock('job').acquire()).not.toBe(false)
  })

  test('fencing tokens keep increasing when memcached loses the counter', async () => {
    const store = open()
    const lock = store.lock('job')
    const first = (await lock.acquire()) as number
    await lock.release()
    const fence = memcachedKey(store.prefix, `${store.prefix}__fence:job`)
    expect(await raw.delete(fence)).toBe(true)
    const second = (await lock.acquire()) as number
    expect(second).toBeGreaterThan(first)
    expect(Number.isSafeInteger(second)).toBe(true)
  })

  test('lock names are mapped like keys: long and unicode names work', async () => {
    const store = open()
    for (const name of ['n'.repeat(400), 'tâche du jour', 'a b\nc']) {
      const lock = store.lock(name)
      expect(await lock.acquire()).not.toBe(false)
      expect(await store.lock(name).acquire()).toBe(false)
      await lock.release()
    }
  })

  test('a lock on a closed store rejects with E_STORE_CLOSED', async () => {
    const store = open()
    const lock = store.lock('job')
    await store.close()
    const error = await lock.acquire().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(isCellarError(error, 'E_STORE_CLOSED')).toBe(true)
  })
})
