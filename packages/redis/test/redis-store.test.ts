import { describeBadInput, describeLock, describeStore } from '@cellar/conformance'
import { CacheGateway, decodeCounter, encodeCounter, isCellarError } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'
import { redisExit, redisFaults } from './conformance-hooks.js'

const redis = await useRedis()
const runner = { describe, test, beforeEach, afterEach, beforeAll, afterAll }

describe.skipIf(!redis)('RedisStore conformance (standalone)', () => {
  // One client shared by every store of the suite (a given client is never closed by a store);
  // the sibling is a second client of its own over the same prefix.
  const client = redis ? new Redis(redis.url) : undefined
  const lockPrefix = uniquePrefix('redis-locks')
  const factory = () =>
    new RedisStore({ connection: client!, prefix: uniquePrefix('redis'), lockPrefix })
  const options = {
    name: 'redis',
    sibling: (store: RedisStore) =>
      new RedisStore({ connection: redis!.url, prefix: store.prefix, lockPrefix }),
  }
  afterAll(async () => {
    const cleaner = new RedisStore({ connection: client!, prefix: lockPrefix })
    await cleaner.clear()
    await client!.quit()
  })
  describeStore(runner, factory, {
    ...options,
    faults: redisFaults(),
    exit: redis && redisExit(redis.url),
  })
  describeLock(runner, factory, options)
  // The same contract with declared limits, so the limit checks run too.
  describeBadInput(
    runner,
    () =>
      new RedisStore({
        connection: client!,
        prefix: uniquePrefix('redis'),
        maxKeyLength: 200,
        maxValueSize: 64 * 1024,
      }),
    { name: 'redis with limits' },
  )
})
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

describe.skipIf(!redis)('RedisStore on Redis', () => {
  let raw: Redis
  const stores: RedisStore[] = []
  const open = (options: ConstructorParameters<typeof RedisStore>[0] = {}) => {
    const store = new RedisStore({
      connection: redis!.url,
      prefix: uniquePrefix('redis'),
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
    await raw.quit()
  })

  test('values are bytes in and out, empty and binary included', async () => {
    const store = open()
    const binary = new Uint8Array([0, 255, 0xc1, 13, 10, 0])
    await store.set('bin', binary)
    await store.set('empty', new Uint8Array(0))
    expect(await store.get('bin')).toEqual(binary)
    expect(await store.get('empty')).toEqual(new Uint8Array(0))
    expect(await raw.getBuffer(`${store.prefix}bin`)).toEqual(Buffer.from(binary))
    expect(Buffer.isBuffer(await store.get('bin'))).toBe(false)
  })

  test('a subarray view is written as just its bytes', async () => {
    const store = open()
    const backing = bytes('xxhelloyy')
    await store.set('view', backing.subarray(2, 7))
    expect(text(await store.get('view'))).toBe('hello')
  })

  test('set sends PX in whole milliseconds; below one millisecond rounds up to 1', async () => {
    const store = open()
    await store.set('long', bytes('v'), 60_000)
    const pttl = await raw.pttl(`${store.prefix}long`)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(60_000)
    await store.set('tiny', bytes('v'), 0.25)
    // PX 0 would be refused by Redis; the write goes through with PX 1 and expires at once.
    expect(await raw.pttl(`${store.prefix}tiny`)).toBeLessThanOrEqual(1)
    expect(await store.add('tiny-add', bytes('v'), 0.5)).toBe(true)
  })

  test('a TTL <= 0 removes the key; null and huge TTLs never expire', async () => {
    const store = open()
    await store.set('gone', bytes('v'))
    await store.set('gone', bytes('w'), 0)
    expect(await raw.exists(`${store.prefix}gone`)).toBe(0)
    await store.set('forever', bytes('v'), null)
    await store.set('huge', bytes('v'), Number.MAX_VALUE)
    expect(await raw.pttl(`${store.prefix}forever`)).toBe(-1)
    expect(await raw.pttl(`${store.prefix}huge`)).toBe(-1)
    expect(await store.add('never', bytes('v'), -5)).toBe(false)
    expect(await raw.exists(`${store.prefix}never`)).toBe(0)
  })

  test('setMany writes every entry with PX; getMany keeps request order', async () => {
    const store = open()
    await store.setMany(
      [
        ['a', bytes('1')],
        ['b', bytes('2')],
        ['c', bytes('3')],
      ],
      30_000,
    )
    for (const key of ['a', 'b', 'c']) {
      expect(await raw.pttl(`${store.prefix}${key}`)).toBeGreaterThan(0)
    }
    const values = await store.getMany(['c', 'missing', 'a', 'c'])
    expect(values.map(text)).toEqual(['3', undefined, '1', '3'])
    await store.setMany([['a', bytes('x')]], null)
    expect(await raw.pttl(`${store.prefix}a`)).toBe(-1)
    await store.setMany([['b', bytes('y')]], 0)
    expect(await store.has('b')).toBe(false)
  })

  test('add is SET NX: only the first of concurrent adds writes', async () => {
    const store = open()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.add('once', bytes(String(i)), 10_000)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await raw.pttl(`${store.prefix}once`)).toBeGreaterThan(0)
  })

  test('increment is INCRBY in a script: plain decimal, keeps the TTL, refuses non-integers', async () => {
    const store = open()
    expect(await store.increment('n')).toBe(1)
    expect(await store.increment('n', 41)).toBe(42)
    expect(await raw.get(`${store.prefix}n`)).toBe('42')
    expect(decodeCounter(await store.get('n'))).toBe(42)
    expect(await raw.pttl(`${store.prefix}n`)).toBe(-1)

    await store.set('t', encodeCounter(5), 60_000)
    expect(await store.increment('t', -10)).toBe(-5)
    expect(await raw.pttl(`${store.prefix}t`)).toBeGreaterThan(0)

    // Not canonical decimal (Redis's own rule, and core's): refused, value unchanged.
    for (const value of ['1.5', 'abc', '\u00c1x', '', '007', '+5', ' 5', '5 ', '-0']) {
      await store.set('bad', bytes(value))
      const error = await store.increment('bad').catch((e: unknown) => e)
      expect(isCellarError(error, 'E_NOT_A_NUMBER')).toBe(true)
      expect((error as Error).message).toMatch(/^\[cellar:redis\] /)
      expect(text(await store.get('bad'))).toBe(value)
    }
  })

  test('operations issued in one tick (one corked write) keep their order', async () => {
    for (const cork of [true, false]) {
      const store = open({ cork })
      await store.get('warm')
      const results = await Promise.all([
        store.set('k', bytes('1')),
        store.increment('k', 1),
        store.get('k'),
        store.add('k', bytes('x')),
        store.delete('k'),
        store.get('k'),
        store.setMany([['k', bytes('9')]], 60_000),
        store.getMany(['k']),
      ])
      expect(results.map((r) => (r instanceof Uint8Array ? text(r) : r))).toEqual([
        undefined,
        2,
        '2',
        false,
        true,
        undefined,
        undefined,
        [new TextEncoder().encode('9')],
      ])
    }
  })

  test('with ioredis auto-pipelining, single-key operations of one tick keep their order', async () => {
    // Writes then go through the client's own methods, not the store's single-buffer SET.
    const store = open({ cork: false, autoPipelining: true })
    await store.get('warm')
    const results = await Promise.all([
      store.set('k', bytes('1'), 60_000),
      store.increment('k', 1),
      store.get('k'),
      store.add('k', bytes('x')),
      store.delete('k'),
      store.add('k', bytes('y'), 60_000),
      store.get('k'),
    ])
    expect(results.map((r) => (r instanceof Uint8Array ? text(r) : r))).toEqual([
      undefined,
      2,
      '2',
      false,
      true,
      true,
      'y',
    ])
  })

  test('a counter written by increment reads back as a number through the gateway', async () => {
    const gateway = new CacheGateway(open())
    await gateway.incr('hits', 3)
    await gateway.setValue('obj', { a: 1 })
    expect(await gateway.getValue('hits')).toBe(3)
    expect(await gateway.getValue('obj')).toEqual({ a: 1 })
    await gateway.setValue('count', 7)
    expect(await gateway.incr('count')).toBe(8)
  })

  test('delete and deleteMany count what they removed', async () => {
    const store = open()
    await store.setMany([
      ['a', bytes('1')],
      ['b', bytes('2')],
    ])
    expect(await store.delete('a')).toBe(true)
    expect(await store.delete('a')).toBe(false)
    expect(await store.deleteMany(['a', 'b', 'c'])).toBe(1)
    expect(await store.deleteMany([])).toBe(0)
  })

  test('clear removes only its own prefix, glob characters matching themselves', async () => {
    const base = uniquePrefix('redis')
    const glob = open({ prefix: `${base}[a-z]*?\\:` })
    const lookalikes = [`${base}x*?\\:k`, `${base}[a-z]zz?\\:k`, `${base}[a-z]*?:k`, `${base}b`]
    for (const key of lookalikes) await raw.set(key, 'foreign')
    await glob.set('k', bytes('mine'))
    await glob.namespace('inner').set('k', bytes('mine too'))
    await glob.clear()
    expect(await raw.exists(`${glob.prefix}k`, `${glob.prefix}~inner:k`)).toBe(0)
    for (const key of lookalikes) expect(await raw.get(key)).toBe('foreign')
    await raw.del(...lookalikes)
  })

  test("clear of namespace 'users' keeps the root's users:42 and every sibling", async () => {
    const store = open()
    const users = store.namespace('users')
    const lookalikes = [
      store.namespace('users2'),
      store.namespace('user'),
      store.namespace('posts'),
    ]
    await store.set('users:42', bytes('root'))
    await store.set('~users:1', bytes('root tilde'))
    await users.set('1', bytes('u'))
    await users.namespace('inner').set('1', bytes('nested'))
    for (const sibling of lookalikes) await sibling.set('1', bytes('s'))
    await users.clear()
    expect(await users.get('1')).toBeUndefined()
    expect(await users.namespace('inner').get('1')).toBeUndefined()
    expect(text(await store.get('users:42'))).toBe('root')
    expect(text(await store.get('~users:1'))).toBe('root tilde')
    for (const sibling of lookalikes) expect(text(await sibling.get('1'))).toBe('s')
    // The root's SCAN pattern sees them all; clearing it removes namespaces too.
    await store.clear()
    for (const sibling of lookalikes) expect(await sibling.get('1')).toBeUndefined()
  })

  test('clear ends while another client keeps writing under the prefix', async () => {
    const store = open()
    await store.setMany(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, bytes('v')] as const))
    const writer = new Redis(redis!.url)
    let writing = true
    let written = 0
    const writes = (async () => {
      while (writing) {
        const pipeline = writer.pipeline()
        for (let i = 0; i < 50; i++) pipeline.set(`${store.prefix}w${written++}`, 'v')
        await pipeline.exec()
      }
    })()
    await store.clear()
    writing = false
    await writes
    await writer.quit()
    expect(written).toBeGreaterThan(0)
    expect(await store.getMany(['k0', 'k2500', 'k4999'])).toEqual([undefined, undefined, undefined])
  })

  test('namespace shares the connection; the store that created a client closes it', async () => {
    const store = open()
    const ns = store.namespace('a').namespace('b')
    await ns.set('k', bytes('v'))
    expect(ns.client).toBe(store.client)
    expect(ns.prefix).toBe(`${store.prefix}~a:~b:`)
    await ns.close()
    expect(store.client.status).toBe('ready')
    await store.set('still', bytes('open'))
    await store.close()
    await store.close()
    expect(store.client.status).toBe('end')
    const error = await ns.get('x').catch((e: unknown) => e)
    expect(isCellarError(error, 'E_STORE_CLOSED')).toBe(true)
  })

  test('a client that was given is never closed', async () => {
    const client = new Redis(redis!.url)
    const store = new RedisStore({ connection: client, prefix: uniquePrefix('redis') })
    await store.set('k', bytes('v'))
    await store.clear()
    await store.close()
    expect(client.status).toBe('ready')
    expect(await client.ping()).toBe('PONG')
    await client.quit()
  })

  test('a client with its own ioredis keyPrefix: keys, clear and locks still line up', async () => {
    const keyPrefix = uniquePrefix('redis-kp')
    const client = new Redis(redis!.url, { keyPrefix })
    const store = new RedisStore({ connection: client, prefix: 'p:' })
    await store.setMany([
      ['a', bytes('1')],
      ['b', bytes('2')],
    ])
    expect(await raw.get(`${keyPrefix}p:a`)).toBe('1')
    const lock = store.lock('job')
    expect(await lock.acquire()).not.toBe(false)
    await store.clear()
    expect(await raw.exists(`${keyPrefix}p:a`, `${keyPrefix}p:b`)).toBe(0)
    expect(await lock.isOwned()).toBe(true)
    await lock.release()
    await raw.del(`${keyPrefix}cellar-lock:{p:job}:fence`)
    await store.close()
    await client.quit()
  })

  test('set and add write the exact bytes under multi-byte keys, with a client keyPrefix too', async () => {
    // Every byte value, RESP's own delimiters included, and a key whose UTF-8 length differs
    // from its JavaScript length: the single-buffer command writer must count bytes, not chars.
    const value = new Uint8Array(512).map((_, i) => i % 256)
    value.set(bytes('\r\n$5\r\n*3\r\n'), 100)
    const key = 'zoë:日本:🙂'
    const keyPrefix = uniquePrefix('redis-bin')
    const prefixed = new Redis(redis!.url, { keyPrefix })
    for (const [store, full] of [
      [open({ prefix: 'bin:' }), `bin:${key}`],
      [new RedisStore({ connection: prefixed, prefix: 'bin:' }), `${keyPrefix}bin:${key}`],
    ] as const) {
      await store.set(key, value, 60_000)
      expect(new Uint8Array((await raw.getBuffer(full))!)).toEqual(value)
      const ttl = await raw.pttl(full)
      expect(ttl).toBeGreaterThan(50_000)
      expect(await store.add(key, bytes('other'))).toBe(false)
      await store.set(key, value)
      expect(await raw.pttl(full)).toBe(-1)
      expect(await store.add(`${key}:new`, value, 60_000)).toBe(true)
      expect(new Uint8Array((await raw.getBuffer(`${full}:new`))!)).toEqual(value)
      await raw.del(full, `${full}:new`)
    }
    await prefixed.quit()
  })

  test('options that cannot work are refused in the constructor', () => {
    const client = new Redis(redis!.url, { lazyConnect: true })
    const refused = [
      () => new RedisStore({ connection: client, offlineQueue: false }),
      () => new RedisStore({ connection: client, commandTimeout: 100 }),
      () => new RedisStore({ prefix: 1 as unknown as string }),
      () => new RedisStore({ lockPrefix: '' }),
      () => new RedisStore({ maxValueSize: 0 }),
      () => new RedisStore({ maxKeyLength: 1.5 }),
      () => new RedisStore({ defaultTtl: 'soon' }),
      () => new RedisStore({ commandTimeout: -1 }),
    ]
    for (const make of refused) {
      expect(make).toThrowError(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    }
    client.disconnect()
  })

  test('maxKeyLength and maxValueSize are enforced before anything is sent', async () => {
    const store = open({ maxKeyLength: 8, maxValueSize: 4 })
    expect(store.capabilities.maxKeyLength).toBe(8)
    await expect(store.set('123456789', bytes('v'))).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    })
    await expect(
      store.setMany([
        ['ok', bytes('v')],
        ['big', bytes('12345')],
      ]),
    ).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' })
    expect(await store.has('ok')).toBe(false)
  })

  test('declares what Redis can do', () => {
    const store = open()
    expect(store.capabilities).toMatchObject({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: true,
      persistent: false,
      ttlPrecision: 1,
      maxValueSize: 512 * 1024 * 1024,
      readsTtl: true,
      listsKeys: true,
      evicts: false,
    })
    expect(open({ persistent: true }).capabilities.persistent).toBe(true)
    expect(open({ evicts: true }).capabilities.evicts).toBe(true)
    expect(open({ evicts: true }).namespace('n').capabilities.evicts).toBe(true)
  })
})
