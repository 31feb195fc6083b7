import { isCellarError } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'
import { FENCE_TTL_MS } from '../src/scripts.js'

const redis = await useRedis()

describe.skipIf(!redis)('RedisStore locks', () => {
  let raw: Redis
  const stores: RedisStore[] = []
  const lockPrefix = uniquePrefix('redis-lock')
  const open = (prefix = uniquePrefix('redis')) => {
    const store = new RedisStore({ connection: redis!.url, prefix, lockPrefix })
    stores.push(store)
    return store
  }

  beforeAll(() => {
    raw = new Redis(redis!.url)
  })
  afterAll(async () => {
    const keys = await raw.keys(`${lockPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`)
    if (keys.length > 0) await raw.del(...keys)
    for (const store of stores) await store.close()
    await raw.quit()
  })

  test('holder and fencing counter share a hash tag under the lock prefix', async () => {
    const store = open('app:')
    const lock = store.lock('job', { ttl: 10_000 })
    const token = await lock.acquire()
    // The holder is a hash whose one field is the owner: release is a plain HDEL.
    expect(await raw.hkeys(`${lockPrefix}{app:job}`)).toEqual([lock.owner])
    expect(await raw.pttl(`${lockPrefix}{app:job}`)).toBeGreaterThan(0)
    expect(await raw.get(`${lockPrefix}{app:job}:fence`)).toBe(String(token))
    // The counter lives FENCE_TTL_MS (30 days) from its creation.
    const fenceTtl = await raw.pttl(`${lockPrefix}{app:job}:fence`)
    expect(fenceTtl).toBeGreaterThan(FENCE_TTL_MS - 60_000)
    expect(fenceTtl).toBeLessThanOrEqual(FENCE_TTL_MS)
    await lock.release()
    expect(await raw.exists(`${lockPrefix}{app:job}`)).toBe(0)
  })

  test('an acquire leaves the counter expiry alone; a lapsed counter restarts above its tokens', async () => {
    const store = open('app:')
    const fence = `${lockPrefix}{app:lapse}:fence`
    const first = store.lock('lapse', { ttl: 10_000 })
    const token = (await first.acquire()) as number
    await first.release()
    await raw.pexpire(fence, 5_000)
    const second = store.lock('lapse', { ttl: 10_000 })
    expect(await second.acquire()).toBe(token + 1)
    const left = await raw.pttl(fence)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(5_000)
    await second.release()
    // The counter lapses (here: by hand); the next one starts at the clock, above every token.
    await raw.pexpire(fence, 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const third = store.lock('lapse', { ttl: 10_000 })
    expect(await third.acquire()).toBeGreaterThan(token + 1)
    expect(await raw.pttl(fence)).toBeGreaterThan(FENCE_TTL_MS - 60_000)
    await third.release()
  })

  test('a string holder from an earlier version: held, owned, extended and released by its owner', async () => {
    const store = open('app:')
    const holder = `${lockPrefix}{app:legacy}`
    await raw.set(holder, 'old-owner', 'PX', 10_000)
    expect(await store.lock('legacy').acquire()).toBe(false)
    const stranger = store.lock('legacy', { owner: 'someone-else' })
    await expect(stranger.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    await expect(stranger.extend(20_000)).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    const restored = store.lock('legacy', { owner: 'old-owner' })
    expect(await restored.isOwned()).toBe(true)
    await restored.extend(60_000)
    expect(await restored.remainingTime()).toBeGreaterThan(10_000)
    await restored.release()
    expect(await raw.exists(holder)).toBe(0)
    expect(await store.lock('legacy').acquire()).not.toBe(false)
  })

  test('fencing tokens strictly increase, across owners, clear() and a lost counter', async () => {
    const store = open()
    const tokens: number[] = []
    for (let i = 0; i < 5; i++) {
      const lock = store.lock('fenced')
      tokens.push((await lock.acquire()) as number)
      if (i === 2) await store.clear()
      await lock.release()
    }
    // An evicted or flushed counter restarts at the server clock, above every earlier token.
    await raw.del(`${lockPrefix}{${store.prefix}fenced}:fence`)
    const after = store.lock('fenced')
    tokens.push((await after.acquire()) as number)
    await after.release()
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!)
    expect(tokens.every(Number.isSafeInteger)).toBe(true)
  })

  test('clear() never releases a held lock, even when the prefixes overlap', async () => {
    const shared = uniquePrefix('redis')
    const locks = `${shared}locks:`
    const store = new RedisStore({ connection: redis!.url, prefix: shared, lockPrefix: locks })
    stores.push(store)
    const lock = store.lock('held')
    await lock.acquire()
    await store.set('k', new Uint8Array([1]))
    await store.clear()
    expect(await store.has('k')).toBe(false)
    expect(await lock.isOwned()).toBe(true)
    await lock.release()
    await raw.del(`${locks}{${shared}held}:fence`)
    expect(() => new RedisStore({ prefix: `${locks}x:`, lockPrefix: locks })).toThrowError(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })

  test('a second owner is refused; release and extend by a stranger are refused', async () => {
    const store = open()
    const first = store.lock('job', { ttl: 10_000 })
    const second = store.lock('job', { ttl: 10_000 })
    expect(await first.acquire()).not.toBe(false)
    expect(await second.acquire()).toBe(false)
    await expect(second.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    await expect(second.extend()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    expect(await first.isOwned()).toBe(true)
    await first.release()
  })

  test('extend resets the expiry, or removes it with null', async () => {
    const store = open()
    const lock = store.lock('job', { ttl: 1_000 })
    await lock.acquire()
    await lock.extend(60_000)
    expect(await lock.remainingTime()).toBeGreaterThan(1_000)
    await lock.extend(null)
    expect(await lock.remainingTime()).toBeNull()
    await lock.release()
    expect(await lock.remainingTime()).toBeUndefined()
  })

  test('a lock restored from its owner token in another connection releases it', async () => {
    const prefix = uniquePrefix('redis')
    const here = open(prefix)
    const elsewhere = open(prefix)
    const lock = here.lock('job', { ttl: 10_000 })
    await lock.acquire()
    const restored = elsewhere.lock('job', { owner: lock.owner })
    expect(await restored.isOwned()).toBe(true)
    await restored.extend(20_000)
    await restored.release()
    expect(await lock.isLocked()).toBe(false)
  })

  test('forceRelease frees a lock whoever holds it', async () => {
    const store = open()
    const lock = store.lock('job')
    await lock.acquire()
    await store.lock('job').forceRelease()
    expect(await lock.isLocked()).toBe(false)
  })

  test('block waits for the holder, and times out with E_LOCK_TIMEOUT', async () => {
    const store = open()
    const holder = store.lock('job', { ttl: 10_000 })
    await holder.acquire()
    const waiter = store.lock('job', { retryInterval: 10 })
    await expect(waiter.block(50)).rejects.toMatchObject({ code: 'E_LOCK_TIMEOUT' })
    const waiting = waiter.block(5_000)
    setTimeout(() => void holder.release(), 30)
    expect(await waiting).toBeGreaterThan(holder.fencingToken!)
    await waiter.release()
  })

  test('locks of namespaces are separate', async () => {
    const store = open()
    const a = store.namespace('a').lock('job')
    const b = store.namespace('b').lock('job')
    expect(await a.acquire()).not.toBe(false)
    expect(await b.acquire()).not.toBe(false)
    await a.release()
    await b.release()
  })

  test('scripts are sent again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const store = open()
    const lock = store.lock('job')
    await lock.acquire()
    await raw.script('FLUSH')
    expect(await lock.isOwned()).toBe(true)
    await lock.release()
    expect(await lock.acquire()).not.toBe(false)
    await lock.release()
  })

  test('lock commands of one tick still leave corked together; a lone one is written at once', async () => {
    const store = open()
    await store.get('warm')
    const socket = (store.client as Redis).stream as unknown as {
      _write: (...args: unknown[]) => void
      _writev: (...args: unknown[]) => void
    }
    // Counts the socket's own writes (one per chunk written directly, one per corked batch).
    let writes = 0
    const { _write, _writev } = socket
    socket._write = (...args) => {
      writes++
      _write.apply(socket, args)
    }
    socket._writev = (...args) => {
      writes++
      _writev.apply(socket, args)
    }
    try {
      const locks = Array.from({ length: 20 }, (_, i) => store.lock(`burst-${i}`))
      const tokens = await Promise.all(locks.map((lock) => lock.acquire()))
      expect(tokens.every((token) => typeof token === 'number')).toBe(true)
      expect(writes).toBeLessThanOrEqual(3)
      writes = 0
      await Promise.all(locks.map((lock) => lock.release()))
      expect(writes).toBeLessThanOrEqual(3)
      for (const lock of locks) expect(await lock.isLocked()).toBe(false)
      writes = 0
      const lone = store.lock('lone')
      expect(await lone.acquire()).not.toBe(false)
      await lone.release()
      expect(writes).toBe(2)
    } finally {
      socket._write = _write
      socket._writev = _writev
    }
  })

  test('a closed store refuses lock operations', async () => {
    const store = open()
    const lock = store.lock('job')
    await store.close()
    const error = await lock.acquire().catch((e: unknown) => e)
    expect(isCellarError(error, 'E_STORE_CLOSED')).toBe(true)
    expect(() => store.lock('other')).toThrowError(
      expect.objectContaining({ code: 'E_STORE_CLOSED' }),
    )
  })
})
