import { randomUUID } from 'node:crypto'
import type { Store } from '@cellar/core'
import { describe, expect, test, vi } from 'vitest'
import { type AnyStore, type CacheEvents, createCache } from '../src/index.js'
import { spy } from './spy.js'

/** How a facade run gets its store: a fresh one per test, on its own prefix, and closing it. */
export interface FacadeTarget {
  readonly name: string
  readonly make: () => AnyStore | Promise<AnyStore>
  /** The store's TTL step in ms (1000 for memcached). */
  readonly precision?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function fresh(target: FacadeTarget) {
  const store = await target.make()
  const cache = createCache({
    default: 'main',
    stores: { main: store, other: store.namespace('other') },
    prefix: `t${randomUUID().slice(0, 8)}`,
  })
  return { cache, store, [Symbol.asyncDispose]: () => cache.close() }
}

/** The facade's contract, run once per store kind. */
export function describeFacade(target: FacadeTarget): void {
  const step = target.precision ?? 1
  const short = step >= 1000 ? 1000 : 300
  const after = step >= 1000 ? short + step + 300 : 700

  describe(`facade on ${target.name}`, () => {
    test('get: a miss is undefined or the default; null, false, 0 and "" are hits', async () => {
      await using t = await fresh(target)
      const { cache } = t
      expect(await cache.get('nope')).toBeUndefined()
      expect(await cache.get('nope', 'dflt')).toBe('dflt')
      let calls = 0
      expect(await cache.get('nope', () => ++calls)).toBe(1)
      for (const value of [null, false, 0, '']) {
        await cache.put('k', value)
        expect(await cache.get('k', 'dflt')).toBe(value)
        expect(await cache.has('k')).toBe(true)
      }
      expect(calls).toBe(1)
    })

    test('put with a TTL <= 0 (or "0s") removes the key; forever keeps it', async () => {
      await using t = await fresh(target)
      const { cache } = t
      await cache.put('k', 'v')
      await cache.put('k', 'v2', 0)
      expect(await cache.missing('k')).toBe(true)
      await cache.put('k', 'v3')
      await cache.put('k', 'v4', '0s')
      expect(await cache.has('k')).toBe(false)
      await cache.forever('f', { deep: [1] })
      expect(await cache.get('f')).toEqual({ deep: [1] })
    })

    test('entries expire after their TTL', async () => {
      await using t = await fresh(target)
      await t.cache.put('k', 'v', short)
      expect(await t.cache.get('k')).toBe('v')
      await sleep(after)
      expect(await t.cache.get('k')).toBeUndefined()
    })

    test('many and putMany; many takes defaults', async () => {
      await using t = await fresh(target)
      const { cache } = t
      await cache.putMany({ a: 1, b: { x: 'y' } })
      expect(await cache.many(['a', 'b', 'c'])).toEqual({ a: 1, b: { x: 'y' }, c: undefined })
      expect(await cache.many({ a: 0, c: 'dflt' })).toEqual({ a: 1, c: 'dflt' })
    })

    test('add writes only when absent: of 20 concurrent adds exactly one wins', async () => {
      await using t = await fresh(target)
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => t.cache.add('once', i)),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(await t.cache.add('once', 'again')).toBe(false)
    })

    test('forget, delete, pull, has and missing', async () => {
      await using t = await fresh(target)
      const { cache } = t
      await cache.put('a', 1)
      expect(await cache.forget('a')).toBe(true)
      expect(await cache.delete('a')).toBe(false)
      await cache.put('b', 'bee')
      expect(await cache.pull('b')).toBe('bee')
      expect(await cache.pull('b', 'gone')).toBe('gone')
      expect(await cache.missing('b')).toBe(true)
    })

    test('increment and decrement are the native counter and read back as numbers', async () => {
      await using t = await fresh(target)
      const { cache } = t
      expect(await cache.increment('n')).toBe(1)
      expect(await cache.increment('n', 5)).toBe(6)
      expect(await cache.decrement('n', 2)).toBe(4)
      expect(await cache.get('n')).toBe(4)
    })

    test('touch replaces the TTL of a live entry only', async () => {
      await using t = await fresh(target)
      const { cache } = t
      await cache.put('k', 'v', short)
      expect(await cache.touch('k', null)).toBe(true)
      await sleep(after)
      expect(await cache.get('k')).toBe('v')
      expect(await cache.touch('missing', '1m')).toBe(false)
    })

    test('remember runs the loader once for 50 concurrent callers and caches the result', async () => {
      await using t = await fresh(target)
      let calls = 0
      const loader = async () => {
        calls++
        await sleep(20)
        return { id: 7 }
      }
      const results = await Promise.all(
        Array.from({ length: 50 }, () => t.cache.remember('p', '1m', loader)),
      )
      expect(calls).toBe(1)
      expect(results.every((value) => value.id === 7)).toBe(true)
      expect(await t.cache.remember('p', '1m', loader)).toEqual({ id: 7 })
      expect(calls).toBe(1)
    })

    test('a loader error reaches every waiter, nothing is cached, and the next call retries', async () => {
      await using t = await fresh(target)
      let calls = 0
      const failing = async () => {
        calls++
        await sleep(10)
        throw new Error('db down')
      }
      const settled = await Promise.allSettled(
        Array.from({ length: 5 }, () => t.cache.remember('p', '1m', failing)),
      )
      expect(settled.every((result) => result.status === 'rejected')).toBe(true)
      expect(calls).toBe(1)
      expect(await t.cache.has('p')).toBe(false)
      expect(await t.cache.rememberForever('p', () => 'ok')).toBe('ok')
      expect(await t.cache.sear('p', () => 'not called')).toBe('ok')
    })

    test('flexible serves fresh values, refreshes stale ones once in the background', async () => {
      await using t = await fresh(target)
      let version = 0
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      // The refresh (the second load) waits until the stale reads are checked: on a pooled
      // store a read can otherwise reach the server after the refresh wrote, and see version 2.
      const loader = async () => {
        const next = ++version
        if (next === 2) await held
        return next
      }
      const windows = [short, 60_000] as const
      expect(await t.cache.flexible('f', windows, loader)).toBe(1)
      expect(await t.cache.flexible('f', windows, loader)).toBe(1)
      await sleep(after)
      // Stale: served as is, while one refresh runs.
      const stale = await Promise.all([1, 2, 3].map(() => t.cache.flexible('f', windows, loader)))
      expect(stale).toEqual([1, 1, 1])
      expect(await t.cache.flexible('f', windows, loader)).toBe(1)
      release()
      await vi.waitFor(async () => expect(await t.cache.flexible('f', windows, loader)).toBe(2), {
        timeout: 10_000,
        interval: 20,
      })
      expect(version).toBe(2)
    })

    test('tags: a flush hides entries of any flushed tag and keeps the rest', async () => {
      await using t = await fresh(target)
      const { cache } = t
      await cache.tags(['posts', 'users']).put('both', 'b')
      await cache.tags('posts').put('posts-only', 'p')
      await cache.tags('users').put('users-only', 'u')
      await cache.put('plain', 'x')
      expect(await cache.tags(['users', 'posts']).get('both')).toBe('b')
      await cache.tags('posts').flush()
      expect(await cache.tags(['posts', 'users']).get('both')).toBeUndefined()
      expect(await cache.tags('posts').get('posts-only')).toBeUndefined()
      expect(await cache.tags('users').get('users-only')).toBe('u')
      expect(await cache.get('plain')).toBe('x')
      expect(await cache.tags('users').remember('r', '1m', () => 'loaded')).toBe('loaded')
      expect(await cache.tags('users').increment('hits')).toBe(1)
    })

    test('a tag flush costs the same store calls with 1 entry as with 2,000', async () => {
      await using t = await fresh(target)
      const counts: number[] = []
      for (const size of [1, 2000]) {
        const { store, calls } = spy(t.store as Store<unknown>)
        const cache = createCache({
          default: 'main',
          stores: { main: store },
          prefix: `flush${size}`,
        })
        const tagged = cache.tags(['a', 'b'])
        const entries = Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i]))
        await tagged.putMany(entries)
        calls.length = 0
        await tagged.flush()
        counts.push(calls.length)
        expect(await tagged.get('k0')).toBeUndefined()
      }
      expect(counts[0]).toBe(counts[1])
      expect(counts[0]).toBe(2)
    })

    test('a lost tag counter turns its entries into misses, never into old values', async () => {
      await using t = await fresh(target)
      await t.cache.tags('t').put('k', 'before')
      await t.cache.tags('t').flush()
      await t.cache.tags('t').put('k', 'after')
      // Simulate eviction of every tag counter.
      await t.cache.store().gateway.store.namespace('__tags').clear()
      expect(await t.cache.tags('t').get('k')).toBeUndefined()
    })

    test('flush removes this cache prefix only', async () => {
      await using t = await fresh(target)
      const neighbour = createCache({
        default: 'main',
        stores: { main: t.store },
        prefix: 'neighbour',
      })
      await neighbour.put('k', 'kept')
      await t.cache.put('k', 'gone')
      await t.cache.flush()
      expect(await t.cache.get('k')).toBeUndefined()
      expect(await neighbour.get('k')).toBe('kept')
      await neighbour.flush()
    })

    test('bad input: an invalid key, TTL or value is a typed error and writes nothing', async () => {
      await using t = await fresh(target)
      const { cache } = t
      const badKey = [
        () => cache.get(''),
        () => cache.put('', 1),
        () => cache.add('', 1),
        () => cache.forget(''),
        () => cache.has(''),
        () => cache.pull(''),
        () => cache.increment(''),
        () => cache.touch('', '1m'),
        () => cache.remember('', '1m', () => 1),
        () => cache.many(['ok', '']),
        () => cache.putMany({ ok: 1, '': 2 }),
      ]
      for (const call of badKey)
        await expect(call()).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      for (const call of [
        () => cache.put('k', 1, 'soon'),
        () => cache.put('k', 1, Number.NaN),
        () => cache.putMany({ k: 1 }, 'never-ish'),
        () => cache.increment('k', 1.5),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
      }
      await expect(cache.put('k', undefined)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
      expect(await cache.has('k')).toBe(false)
      expect(await cache.has('ok')).toBe(false)
    })

    test('events: hit, missed, written, forgotten, flushed; a throwing listener breaks nothing', async () => {
      await using t = await fresh(target)
      const seen: string[] = []
      const record =
        <E extends keyof CacheEvents>(type: E) =>
        (event: CacheEvents[E]) =>
          seen.push(`${type}:${'key' in event ? event.key : ''}`)
      t.cache.on('hit', record('hit'))
      t.cache.on('missed', record('missed'))
      t.cache.on('written', record('written'))
      t.cache.on('forgotten', record('forgotten'))
      t.cache.on('flushed', record('flushed'))
      t.cache.on('hit', () => {
        throw new Error('listener bug')
      })
      await t.cache.get('a')
      await t.cache.put('a', 1)
      await t.cache.get('a')
      await t.cache.forget('a')
      await t.cache.flush()
      expect(seen).toEqual(['missed:a', 'written:a', 'hit:a', 'forgotten:a', 'flushed:'])
    })

    test('locks: get with a callback, block, restoreLock and their events', async (context) => {
      await using t = await fresh(target)
      if (!t.store.capabilities.locks) {
        expect(() => t.cache.lock('job')).toThrow(
          expect.objectContaining({ code: 'E_UNSUPPORTED' }),
        )
        context.skip()
      }
      const events: string[] = []
      t.cache.on('lockAcquired', (event) => events.push(`acquired ${event.name} ${event.token}`))
      t.cache.on('lockReleased', (event) => events.push(`released ${event.name}`))
      const lock = t.cache.lock('job', '10s')
      expect(await lock.get(async () => 'done')).toBe('done')
      const token = await lock.get()
      expect(token).not.toBe(false)
      expect(await t.cache.lock('job', '10s').get()).toBe(false)
      await t.cache.restoreLock('job', lock.owner()).release()
      expect(await t.cache.lock('job').block('1s', () => 'blocked-in')).toBe('blocked-in')
      expect(events.filter((event) => event.startsWith('acquired'))).toHaveLength(3)
      expect(events.filter((event) => event.startsWith('released'))).toHaveLength(3)
    })

    test('store(name) picks a configured store; an unknown name is E_UNKNOWN_STORE listing the names', async () => {
      await using t = await fresh(target)
      await t.cache.store('other').put('k', 'other')
      expect(await t.cache.get('k')).toBeUndefined()
      expect(await t.cache.store('other').get('k')).toBe('other')
      expect(() => (t.cache.store as (name: string) => unknown)('typo')).toThrow(
        expect.objectContaining({ code: 'E_UNKNOWN_STORE', configured: ['main', 'other'] }),
      )
    })
  })
}
