import { CacheGateway, isCellarError } from '@cellar/core'
import { canStartRedis, startRedis, uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index.js'
import { INCREMENT } from '../src/scripts.js'

// What contract 2 asks of Redis specifically: the scripts behind increment/touch/ttl, SCAN for
// keys(), key encoding through core, eviction, closing. The shared rules are in conformance.
const redis = await useRedis()
const bytes = (text: string) => new TextEncoder().encode(text)
const MAX = Number.MAX_SAFE_INTEGER

describe.skipIf(!redis)('RedisStore contract 2 on Redis', () => {
  let raw: Redis
  const stores: RedisStore[] = []
  const lockPrefix = uniquePrefix('redis-c2-locks')
  const open = (options: RedisStoreOptions = {}) => {
    const store = new RedisStore({
      connection: redis!.url,
      prefix: uniquePrefix('redis-c2'),
      lockPrefix,
      ...options,
    })
    stores.push(store)
    return store
  }

  beforeAll(() => {
    raw = new Redis(redis!.url)
  })
  afterAll(async () => {
    for (const store of stores) await store.clear().catch(() => {})
    for (const store of stores) await store.close()
    const locks = await raw.keys(`${lockPrefix}*`)
    if (locks.length > 0) await raw.del(...locks)
    await raw.quit()
  })

  test('increment with { ttl } sets PX only on the increment that creates the key', async () => {
    const store = open({ defaultTtl: '1h' })
    const full = `${store.prefix}window`
    expect(await store.increment('window', 1, { ttl: 60_000 })).toBe(1)
    const first = await raw.pttl(full)
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(60_000)
    await raw.pexpire(full, 5_000_000)
    expect(await store.increment('window', 1, { ttl: 60_000 })).toBe(2)
    expect(await raw.pttl(full)).toBeGreaterThan(60_000)
    // Omitted: the store's default TTL on create; null: no expiry.
    await store.increment('defaulted')
    expect(await raw.pttl(`${store.prefix}defaulted`)).toBeGreaterThan(60_000)
    await store.increment('forever', 3, { ttl: null })
    expect(await raw.pttl(`${store.prefix}forever`)).toBe(-1)
    // A ttl <= 0 on create resolves delta and keeps nothing; an existing counter still counts.
    expect(await store.increment('gone', 7, { ttl: '0s' })).toBe(7)
    expect(await raw.exists(`${store.prefix}gone`)).toBe(0)
    expect(await store.increment('forever', 1, { ttl: 0 })).toBe(4)
  })

  test('increment with { ttl } is one EVALSHA: the PEXPIRE runs inside the script', async () => {
    const store = open()
    await store.increment('warm')
    const monitor = await new Redis(redis!.url).monitor()
    const seen: string[][] = []
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args.some((arg) => arg.startsWith(store.prefix))) seen.push([source, ...args])
    })
    await store.increment('counted', 2, { ttl: 30_000 })
    await store.get('counted') // MONITOR lines arrive in order: once this one is in, all are.
    for (let i = 0; i < 200 && !seen.some((line) => line[1]?.toLowerCase() === 'get'); i++) {
      await new Promise((resolve) => setImmediate(resolve))
      await raw.ping()
    }
    monitor.disconnect()
    const fromClient = seen.filter(([source]) => source !== 'lua').map((line) => line[1]!)
    expect(fromClient.map((name) => name.toLowerCase())).toEqual(['evalsha', 'get'])
    expect(seen.some(([source, name]) => source === 'lua' && name === 'PEXPIRE')).toBe(true)
    expect(seen.find(([source]) => source !== 'lua')?.[2]).toBe(INCREMENT.sha)
  })

  test('increments that would leave the safe-integer range are refused and change nothing', async () => {
    const store = open()
    await store.increment('top', MAX)
    for (let i = 0; i < 2; i++) {
      const error = await store.increment('top').catch((e: unknown) => e)
      expect(isCellarError(error, 'E_NOT_A_NUMBER')).toBe(true)
      expect(await raw.get(`${store.prefix}top`)).toBe(String(MAX))
    }
    expect(await store.increment('top', -1)).toBe(MAX - 1)
    expect(await store.increment('top', 1)).toBe(MAX)
    await store.increment('bottom', -MAX)
    const below = await store.increment('bottom', -1).catch((e: unknown) => e)
    expect(isCellarError(below, 'E_NOT_A_NUMBER')).toBe(true)
    expect(await raw.get(`${store.prefix}bottom`)).toBe(String(-MAX))
    // Past Redis's own 64-bit range too: INCRBY's overflow error is E_NOT_A_NUMBER.
    await raw.set(`${store.prefix}int64`, '9223372036854775807', 'PX', 60_000)
    const overflow = await store.increment('int64').catch((e: unknown) => e)
    expect(isCellarError(overflow, 'E_NOT_A_NUMBER')).toBe(true)
    expect(await raw.get(`${store.prefix}int64`)).toBe('9223372036854775807')
    expect(await raw.pttl(`${store.prefix}int64`)).toBeGreaterThan(0)
  })

  test('touch is PEXPIRE / PERSIST on a live key; <= 0 unlinks; nothing is revived', async () => {
    const store = open()
    const full = (key: string) => `${store.prefix}${key}`
    await store.set('k', bytes('v'))
    expect(await store.touch('k', 60_000)).toBe(true)
    expect(await raw.pttl(full('k'))).toBeGreaterThan(50_000)
    expect(await store.touch('k', null)).toBe(true)
    expect(await raw.pttl(full('k'))).toBe(-1)
    expect(await store.touch('k', null)).toBe(true) // already without expiry: still live
    expect(await store.touch('missing', 60_000)).toBe(false)
    expect(await store.touch('missing', null)).toBe(false)
    expect(await raw.exists(full('missing'))).toBe(0)
    expect(await store.touch('k', '0s')).toBe(true)
    expect(await raw.exists(full('k'))).toBe(0)
    expect(await store.touch('k', -1)).toBe(false)
    await store.set('short', bytes('v'), 1)
    while ((await raw.exists(full('short'))) === 1) await raw.ping()
    expect(await store.touch('short', 60_000)).toBe(false)
    expect(await raw.exists(full('short'))).toBe(0)
  })

  test('ttl is PTTL: remaining ms, null without expiry, undefined when missing', async () => {
    const store = open()
    await store.set('timed', bytes('v'), 60_000.5)
    const left = await store.ttl('timed')
    expect(Number.isInteger(left)).toBe(true)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(60_001)
    await store.set('kept', bytes('v'), null)
    expect(await store.ttl('kept')).toBeNull()
    expect(await store.ttl('missing')).toBeUndefined()
    await store.increment('n', 1, { ttl: 5_000 })
    expect(await store.ttl('n')).toBeLessThanOrEqual(5_000)
  })

  test('keys() lists plain keys over many SCAN pages, each once, never nested or lock keys', async () => {
    const base = uniquePrefix('redis-c2')
    // A lock prefix inside the store prefix: lock keys match the SCAN pattern and must be skipped.
    const store = open({ prefix: base, lockPrefix: `${base}locks:` })
    const names = Array.from({ length: 2_500 }, (_, i) => `k${i}`)
    await store.setMany(names.map((name) => [name, bytes('v')] as const))
    const odd = ['~tilde', '~~two', 'zoë:日本:🙂', 'a*b?[c]', 'users:42']
    for (const key of odd) await store.set(key, bytes('v'))
    await store.namespace('users').set('42', bytes('nested'))
    const lock = store.lock('job')
    await lock.acquire()
    const listed: string[] = []
    for await (const key of store.keys()) listed.push(key)
    expect(listed.length).toBe(names.length + odd.length)
    expect(new Set(listed)).toEqual(new Set([...names, ...odd]))
    const users: string[] = []
    for await (const key of store.namespace('users').keys()) users.push(key)
    expect(users).toEqual(['42'])
    await lock.release()
  })

  test('a key with a lone surrogate is refused before anything is sent', async () => {
    const store = open()
    const high = `user:${'🔑'.slice(0, 1)}`
    const low = `user:${'🔒'.slice(1)}`
    for (const key of [high, low]) {
      for (const call of [
        () => store.set(key, bytes('v')),
        () => store.get(key),
        () => store.increment(key),
        () => store.touch(key, 1_000),
        () => store.ttl(key),
        () => store.getMany(['ok', key]),
      ]) {
        const error = await call().catch((e: unknown) => e)
        expect(isCellarError(error, 'E_INVALID_KEY')).toBe(true)
      }
      expect(() => store.namespace(key)).toThrowError(
        expect.objectContaining({ code: 'E_INVALID_KEY' }),
      )
    }
    expect(await raw.keys(`${store.prefix}*`)).toEqual([])
  })

  test('a prefix or lockPrefix with a lone surrogate is refused before a connection opens', () => {
    // Both would reach Redis as U+FFFD: 'app\uD800' and 'app\uDBFF' would share every key.
    expect(Buffer.from('app\uD800').equals(Buffer.from('app\uDBFF'))).toBe(true)
    for (const options of [
      { prefix: 'app\uD800' },
      { prefix: `app:${'🔑'.slice(0, 1)}` },
      { lockPrefix: `locks:${'🔒'.slice(1)}` },
    ]) {
      expect(() => new RedisStore({ connection: redis!.url, ...options })).toThrowError(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
      )
    }
  })

  test('evictionPolicy() reads maxmemory and maxmemory-policy', async () => {
    const store = open()
    const policy = await store.evictionPolicy()
    const [, current] = (await raw.config('GET', 'maxmemory-policy')) as [string, string]
    expect(policy.policy).toBe(current)
    expect(policy.evicts).toBe(policy.maxmemory > 0 && current !== 'noeviction')
  })

  test.skipIf(!canStartRedis())('an evicting server is reported as such', async () => {
    const server = await startRedis({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    })
    const store = new RedisStore({ connection: server.url, evicts: true })
    try {
      expect(await store.evictionPolicy()).toEqual({
        policy: 'allkeys-lru',
        maxmemory: 64 * 1024 * 1024,
        evicts: true,
      })
      expect(store.capabilities.evicts).toBe(true)
    } finally {
      await store.close()
      await server.stop()
    }
  })

  test('closing the root refuses its namespaces and lock handles made before; a namespace closes alone', async () => {
    const store = open()
    const ns = store.namespace('a')
    const rootLock = store.lock('job')
    const nsLock = ns.lock('job')
    await ns.close()
    await expect(ns.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(nsLock.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await rootLock.acquire()).not.toBe(false)
    await rootLock.release()
    await store.set('k', bytes('still open'))
    const other = store.namespace('b')
    const otherLock = other.lock('job')
    await store.close()
    for (const call of [
      () => other.get('k'),
      () => other.increment('k'),
      () => other.touch('k', 1),
      () => other.ttl('k'),
      () => otherLock.acquire(),
      () => rootLock.acquire(),
      () => rootLock.release(),
      () => store.keys()[Symbol.asyncIterator]().next(),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    }
    expect(store.client.status).toBe('end')
  })

  test('a gateway with a prefix closes the store it was built on, never a client passed in', async () => {
    const client = new Redis(redis!.url)
    const store = new RedisStore({ connection: client, prefix: uniquePrefix('redis-c2') })
    const gateway = new CacheGateway(store, { prefix: 'app' })
    await gateway.setValue('k', 1)
    await gateway.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await client.ping()).toBe('PONG')
    await client.quit()
    const owned = open()
    await new CacheGateway(owned, { prefix: 'app' }).close()
    expect(owned.client.status).toBe('end')
  })
})
