import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeCounter, encodeCounter, isCellarError } from '@cellar/core'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { Client } from 'memjs'
import { afterAll, describe, expect, test } from 'vitest'
import { endOf } from '../src/expiry.js'
import { MemcachedStore, type MemcachedStoreOptions } from '../src/index.js'

const memcached = await useMemcached()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined | null) =>
  value == null ? undefined : new TextDecoder().decode(value)

async function code(operation: Promise<unknown>): Promise<string | undefined> {
  return operation.then(
    () => undefined,
    (error: unknown) => (isCellarError(error) ? error.code : String(error)),
  )
}

describe.skipIf(!memcached)('MemcachedStore, contract 2', () => {
  const raw = Client.create(memcached?.servers, { logger: { log() {} } })
  const stores: MemcachedStore[] = []
  const open = (options: MemcachedStoreOptions = {}) => {
    const store = new MemcachedStore({
      servers: memcached!.servers,
      prefix: uniquePrefix('memcached'),
      ...options,
    })
    stores.push(store)
    return store
  }
  afterAll(async () => {
    for (const store of stores) await store.close()
    raw.close()
  })

  /** The item behind a root key, read straight from memcached. */
  async function item(store: MemcachedStore, key: string) {
    const gen = text((await raw.get(`${store.prefix}__gen:`)).value)
    return raw.get(`${store.prefix}${gen}:${key}`)
  }

  describe('increment with a TTL on create', () => {
    test('creates the counter with its expiry and the end kept in the flags (one ADD)', async () => {
      const store = open()
      const before = Date.now()
      expect(await store.increment('w', 3, { ttl: 10_000 })).toBe(3)
      const { value, flags } = await item(store, 'w')
      expect(text(value)).toBe('3')
      const end = endOf(flags!.readUInt32BE(0))!
      expect(end).toBeGreaterThan(before + 10_000 - 250)
      expect(end).toBeLessThanOrEqual(Date.now() + 10_000)
      const left = await store.ttl('w')
      expect(left).toBeGreaterThan(9_000)
      expect(left).toBeLessThanOrEqual(10_000)
    })

    test('an existing counter keeps its TTL; a counter created without one never expires', async () => {
      const store = open()
      await store.increment('short', 1, { ttl: 1_000 })
      expect(await store.increment('short', 1, { ttl: '1h' })).toBe(2)
      expect(await store.increment('forever', 1)).toBe(1)
      expect(await store.increment('forever', 1, { ttl: 1_000 })).toBe(2)
      expect(await store.ttl('forever')).toBeNull()
      await sleep(3_200)
      expect(await store.get('short')).toBeUndefined()
      expect(decodeCounter(await store.get('forever'))).toBe(2)
    })

    test('a negative first increment takes the TTL too (compare-and-swap path)', async () => {
      const store = open()
      expect(await store.increment('neg', -2, { ttl: 1_000 })).toBe(-2)
      expect(await store.increment('neg', -1)).toBe(-3)
      expect(await store.ttl('neg')).toBeGreaterThan(0)
      await sleep(3_200)
      expect(await store.get('neg')).toBeUndefined()
    })

    test('a TTL <= 0 on create resolves the delta and keeps nothing', async () => {
      const store = open()
      expect(await store.increment('gone', 4, { ttl: 0 })).toBe(4)
      expect(await store.increment('gone', -4, { ttl: '0s' })).toBe(-4)
      expect(await store.has('gone')).toBe(false)
      await store.increment('kept', 1)
      expect(await store.increment('kept', 1, { ttl: -1 })).toBe(2)
    })

    test("zero durations as strings: generationTtl '0s' is 0, defaultTtl '0s' keeps nothing", async () => {
      // generationTtl 0 (its default) checks the generation with every operation, so a clear
      // through another client is seen by the very next read.
      const store = open({ generationTtl: '0s' })
      const other = open({ prefix: store.prefix, generationTtl: '0ms' })
      await store.set('k', bytes('v'))
      expect(text(await other.get('k'))).toBe('v')
      await other.clear()
      expect(await store.get('k')).toBeUndefined()
      const gone = open({ defaultTtl: '0s' })
      await gone.set('k', bytes('v'))
      expect(await gone.increment('n', 5)).toBe(5)
      expect(await gone.getMany(['k', 'n'])).toEqual([undefined, undefined])
    })

    test('the default TTL applies when the option is omitted', async () => {
      const store = open({ defaultTtl: 60_000 })
      await store.increment('d')
      const ttl = await store.ttl('d')
      expect(ttl).toBeGreaterThan(59_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
    })
  })

  describe('touch and ttl', () => {
    test('ttl reads the end second kept in the flags; null without expiry; undefined when missing', async () => {
      const store = open()
      await store.set('t', bytes('v'), 5_000)
      await store.set('n', bytes('v'))
      const ttl = await store.ttl('t')
      expect(ttl).toBeGreaterThan(4_000)
      expect(ttl).toBeLessThanOrEqual(5_000)
      expect(await store.ttl('n')).toBeNull()
      expect(await store.ttl('missing')).toBeUndefined()
    })

    test('touch replaces the TTL of a live entry, keeps its bytes, and never revives', async () => {
      const store = open()
      await store.set('k', bytes('v'), 1_000)
      expect(await store.touch('k', '1h')).toBe(true)
      expect(await store.ttl('k')).toBeGreaterThan(3_500_000)
      expect(await store.touch('k', null)).toBe(true)
      expect(await store.ttl('k')).toBeNull()
      expect(text(await store.get('k'))).toBe('v')
      await store.set('short', bytes('v'), 1_000)
      await sleep(3_200)
      expect(await store.touch('short', '1h')).toBe(false)
      expect(await store.get('short')).toBeUndefined()
      expect(await store.touch('missing', '1h')).toBe(false)
    })

    test('touch with a TTL <= 0 removes a live entry and resolves true', async () => {
      const store = open()
      await store.set('k', bytes('v'))
      expect(await store.touch('k', '0s')).toBe(true)
      expect(await store.has('k')).toBe(false)
      expect(await store.touch('k', 0)).toBe(false)
    })

    test('a touched counter keeps the new TTL through a compare-and-swap rewrite', async () => {
      const store = open()
      await store.increment('c', 5)
      expect(await store.touch('c', 1_000)).toBe(true)
      expect(await store.increment('c', -1)).toBe(4)
      await sleep(4_200)
      expect(await store.get('c')).toBeUndefined()
    })
  })

  describe('counter bytes: the one rule', () => {
    const notCounters = ['007', '+5', ' 5', '5 ', '-0', '5 x', '\t7', '9007199254740993']
    test.each(notCounters)(
      '%j is refused with E_NOT_A_NUMBER and stays as it was',
      async (value) => {
        const store = open()
        await store.set('k', bytes(value))
        expect(await code(store.increment('k'))).toBe('E_NOT_A_NUMBER')
        expect(await code(store.increment('k', -1))).toBe('E_NOT_A_NUMBER')
        expect(text(await store.get('k'))).toBe(value)
        expect((await store.getMany(['k'])).map(text)).toEqual([value])
      },
    )

    test('such values are kept behind one 0xc0 byte that memcached cannot parse', async () => {
      const store = open()
      await store.set('k', bytes('007'))
      await store.add('a', bytes(' 5'))
      await store.set('esc', new Uint8Array([0xc0, 1]))
      expect((await item(store, 'k')).value).toEqual(Buffer.from([0xc0, ...bytes('007')]))
      expect((await item(store, 'a')).value).toEqual(Buffer.from([0xc0, ...bytes(' 5')]))
      expect(await store.get('esc')).toEqual(new Uint8Array([0xc0, 1]))
      expect((await item(store, 'esc')).value).toEqual(Buffer.from([0xc0, 0xc0, 1]))
      await store.set('c', encodeCounter(-12))
      expect(text((await item(store, 'c')).value)).toBe('-12')
    })
  })

  describe('past Number.MAX_SAFE_INTEGER', () => {
    test('a native increment past the range is refused and taken back out', async () => {
      const store = open()
      await store.set('top', encodeCounter(Number.MAX_SAFE_INTEGER - 1), '1h')
      expect(await store.increment('top')).toBe(Number.MAX_SAFE_INTEGER)
      expect(await code(store.increment('top'))).toBe('E_NOT_A_NUMBER')
      expect(await code(store.increment('top', Number.MAX_SAFE_INTEGER))).toBe('E_NOT_A_NUMBER')
      expect(text(await store.get('top'))).toBe(String(Number.MAX_SAFE_INTEGER))
      expect(await store.ttl('top')).toBeGreaterThan(3_500_000)
      expect(await store.increment('top', -1)).toBe(Number.MAX_SAFE_INTEGER - 1)
    })

    test('from a small value, an overflowing delta leaves canonical bytes (no padding)', async () => {
      const store = open()
      await store.increment('small', 5)
      expect(await code(store.increment('small', Number.MAX_SAFE_INTEGER))).toBe('E_NOT_A_NUMBER')
      expect(text(await store.get('small'))).toBe('5')
      expect(await store.increment('small')).toBe(6)
    })
  })

  describe('namespaces that cannot alias', () => {
    test("root key 'users:42' and key '42' of namespace('users') are two entries", async () => {
      const store = open()
      const users = store.namespace('users')
      await store.set('users:42', bytes('root'))
      await users.set('42', bytes('ns'))
      expect(text(await store.get('users:42'))).toBe('root')
      expect(text(await users.get('42'))).toBe('ns')
      await users.clear()
      expect(text(await store.get('users:42'))).toBe('root')
      expect(await users.get('42')).toBeUndefined()
    })

    test('keys that look like namespace paths, hashed keys and sibling names stay apart', async () => {
      const store = open()
      const a = store.namespace('a')
      const ab = store.namespace('a:b')
      const aNested = a.namespace('b')
      const long = 'x'.repeat(300)
      const entries: Array<[MemcachedStore, string]> = [
        [store, '~a:k'],
        [store, '~~a:k'],
        [a, 'k'],
        [ab, 'k'],
        [aNested, 'k'],
        [a, 'b:k'],
        [store, `~a:${long}`],
        [a, long],
        [store, 'ключ'],
        [a, 'ключ'],
      ]
      for (const [i, [owner, key]] of entries.entries()) await owner.set(key, bytes(`v${i}`))
      for (const [i, [owner, key]] of entries.entries()) {
        expect(text(await owner.get(key))).toBe(`v${i}`)
      }
    })

    test('locks are scoped per namespace and apart from cache keys', async () => {
      const store = open()
      const users = store.namespace('users')
      expect(await store.lock('job').acquire()).not.toBe(false)
      expect(await users.lock('job').acquire()).not.toBe(false)
      await users.set('job', bytes('v'))
      await users.clear()
      expect(await users.lock('job').isLocked()).toBe(true)
    })
  })

  describe('closing', () => {
    test('closing the root refuses its namespaces and lock handles made before', async () => {
      const store = open()
      const users = store.namespace('users')
      const lock = users.lock('job')
      const rootLock = store.lock('job')
      await store.close()
      for (const call of [
        users.get('k'),
        users.increment('k'),
        users.touch('k', 1_000),
        users.ttl('k'),
        lock.acquire(),
        rootLock.isLocked(),
        store.ttl('k'),
      ]) {
        expect(await code(call)).toBe('E_STORE_CLOSED')
      }
    })

    test('closing a namespace releases nothing shared', async () => {
      const store = open()
      const users = store.namespace('users')
      await users.close()
      expect(await code(users.get('k'))).toBe('E_STORE_CLOSED')
      await store.set('k', bytes('v'))
      expect(text(await store.get('k'))).toBe('v')
      expect(text(await store.namespace('users').get('missing'))).toBeUndefined()
    })

    test('declares the contract 2 capabilities', () => {
      expect(open().capabilities).toMatchObject({
        readsTtl: true,
        listsKeys: false,
        evicts: true,
        ttlPrecision: 2000,
      })
      expect('keys' in open()).toBe(false)
    })
  })
})

describe('published types', () => {
  test('the .d.ts exposes no internal type and the constructor takes only options', () => {
    const dts = new URL('../dist/index.d.ts', import.meta.url)
    // Declarations only: doc comments may name the words.
    const source = readFileSync(dts, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
    for (const internal of ['Wire', 'Head', 'KeySpace', 'Shared', 'Counters', 'Generations']) {
      expect(source).not.toMatch(new RegExp(`\\b${internal}\\b`))
    }
    expect(source).toMatch(/constructor\(options\?: MemcachedStoreOptions\);/)
  })
})
