import { type Store, UnsupportedError } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { describe, expect, test } from 'vitest'
import { type CacheEvents, createCache, LoaderTimeoutError } from '../src/index.js'
import { spy } from './spy.js'

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok
    reject = fail
  })
  return { promise, resolve, reject }
}

function setup(store: Store<unknown> = new MemoryStore()) {
  const watched = spy(store)
  const cache = createCache({ default: 'main', stores: { main: watched.store } })
  const stale: CacheEvents['servedStale'][] = []
  const errors: CacheEvents['error'][] = []
  cache.on('servedStale', (event) => stale.push(event))
  cache.on('error', (event) => errors.push(event))
  return { cache, calls: watched.calls, stale, errors, [Symbol.asyncDispose]: () => cache.close() }
}

// Expire an entry written with grace: the value stays, its logical expiry is in the past.
async function expire(cache: ReturnType<typeof setup>['cache'], key: string, value: unknown) {
  await cache.store().gateway.setValue(key, value, '1h', { expiresAt: Date.now() - 1 })
}

describe('remember: in-process single-flight', () => {
  test('100 concurrent callers: one loader call, every waiter gets its result, no store re-read', async () => {
    await using t = setup()
    const gate = deferred<{ id: number }>()
    let runs = 0
    const callers = Array.from({ length: 100 }, () =>
      t.cache.remember('k', '1m', () => {
        runs++
        return gate.promise
      }),
    )
    // Synchronous stores are read through getSync, the others through get.
    const reads = () => t.calls.filter((call) => call === 'get' || call === 'getSync').length
    // Let every caller make its first read and join the flight.
    while (reads() < 100) await new Promise((resolve) => setImmediate(resolve))
    expect(reads()).toBe(100)
    const result = { id: 7 }
    gate.resolve(result)
    const values = await Promise.all(callers)
    expect(runs).toBe(1)
    // The very object the loader produced, not a decoded copy read back from the store.
    for (const value of values) expect(value).toBe(result)
    expect(reads()).toBe(100)
    // One write: `setSync` where the store writes in-process, `set` elsewhere.
    expect(t.calls.filter((call) => call === 'set' || call === 'setSync')).toHaveLength(1)
  })

  test('a loader error reaches every waiter, nothing is cached, and the next call retries', async () => {
    await using t = setup()
    let runs = 0
    const boom = new Error('db down')
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        t.cache.remember('k', '1m', async () => {
          runs++
          await new Promise((resolve) => setImmediate(resolve))
          throw boom
        }),
      ),
    )
    expect(runs).toBe(1)
    for (const result of results) expect(result).toEqual({ status: 'rejected', reason: boom })
    expect(await t.cache.has('k')).toBe(false)
    expect(await t.cache.remember('k', '1m', () => ++runs)).toBe(2)
    expect(await t.cache.get('k')).toBe(2)
  })

  test('an aborted caller is rejected alone; the load goes on for the others', async () => {
    await using t = setup()
    const gate = deferred<string>()
    let runs = 0
    const controller = new AbortController()
    const loader = () => {
      runs++
      return gate.promise
    }
    const cancelled = t.cache.remember('k', '1m', loader, { signal: controller.signal })
    const others = Array.from({ length: 10 }, () => t.cache.remember('k', '1m', loader))
    await new Promise((resolve) => setImmediate(resolve))
    controller.abort(new Error('client went away'))
    await expect(cancelled).rejects.toThrow('client went away')
    gate.resolve('value')
    expect(await Promise.all(others)).toEqual(Array(10).fill('value'))
    expect(runs).toBe(1)
    expect(await t.cache.get('k')).toBe('value')
  })

  test('an already-aborted signal rejects before the loader runs', async () => {
    await using t = setup()
    let runs = 0
    const signal = AbortSignal.abort(new Error('gone'))
    await expect(t.cache.remember('k', '1m', () => ++runs, { signal })).rejects.toThrow('gone')
    expect(runs).toBe(0)
  })

  test('lock: true on a store without locks is refused with E_UNSUPPORTED', async () => {
    const inner = new MemoryStore()
    const noLocks = new Proxy(inner, {
      get(target, property) {
        if (property === 'capabilities') return { ...target.capabilities, locks: false }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    await using t = setup(noLocks)
    await expect(t.cache.remember('k', '1m', () => 1, { lock: true })).rejects.toBeInstanceOf(
      UnsupportedError,
    )
  })
})

describe('remember: grace', () => {
  test('the loader throws: the stale value is served with an event; back-off spares the loader', async () => {
    await using t = setup()
    await expire(t.cache, 'k', 'old')
    let runs = 0
    const failing = () => {
      runs++
      throw new Error('db down')
    }
    const options = { grace: '6h', graceBackoff: '1h' }
    expect(await t.cache.remember('k', '1m', failing, options)).toBe('old')
    expect(t.stale).toEqual([
      { store: 'main', key: 'k', reason: 'error', error: new Error('db down') },
    ])
    // Within the back-off the loader is not called again.
    expect(await t.cache.remember('k', '1m', failing, options)).toBe('old')
    expect(await t.cache.remember('k', '1m', failing, options)).toBe('old')
    expect(runs).toBe(1)
    expect(t.stale.map((event) => event.reason)).toEqual(['error', 'backoff', 'backoff'])
  })

  test('after the back-off the loader is tried again and its value replaces the stale one', async () => {
    await using t = setup()
    await expire(t.cache, 'k', 'old')
    const options = { grace: '6h', graceBackoff: 0 }
    expect(
      await t.cache.remember(
        'k',
        '1m',
        () => {
          throw new Error('db down')
        },
        options,
      ),
    ).toBe('old')
    expect(await t.cache.remember('k', '1m', () => 'new', options)).toBe('new')
    const entry = await t.cache.store().gateway.getEntry('k')
    expect(entry?.value).toBe('new')
    // Written with the logical expiry in the envelope and the grace period on the store.
    expect(entry?.meta?.expiresAt).toBeGreaterThan(Date.now())
    expect(await t.cache.store().gateway.ttl('k')).toBeGreaterThan(60_000)
  })

  test('without a stale value a loader error still rejects', async () => {
    await using t = setup()
    await expect(
      t.cache.remember(
        'k',
        '1m',
        () => {
          throw new Error('db down')
        },
        { grace: '6h' },
      ),
    ).rejects.toThrow('db down')
    expect(t.stale).toEqual([])
  })

  test('an unreachable store: the loader answers (fail open) and the failure is an event', async () => {
    const store = new MemoryStore()
    await using t = setup(store)
    await store.close()
    expect(await t.cache.remember('k', '1m', () => 'fresh', { grace: '6h' })).toBe('fresh')
    expect(t.errors.map((event) => (event.error as { code: string }).code)).toEqual([
      'E_STORE_CLOSED', // the read
      'E_STORE_CLOSED', // the write of the loaded value
    ])
  })

  test('a cache-wide grace applies to every remember call', async () => {
    const store = new MemoryStore()
    const cache = createCache({
      default: 'main',
      stores: { main: store },
      remember: { grace: '6h' },
    })
    await using _ = { [Symbol.asyncDispose]: () => cache.close() }
    await expire(cache, 'k', 'old')
    expect(
      await cache.remember('k', '1m', () => {
        throw new Error('down')
      }),
    ).toBe('old')
  })
})

describe('remember: timeouts', () => {
  test('soft timeout with a stale value: stale now, the load finishes in the background', async () => {
    await using t = setup()
    await expire(t.cache, 'k', 'old')
    const gate = deferred<string>()
    const value = await t.cache.remember('k', '1m', () => gate.promise, {
      grace: '6h',
      timeout: 10,
    })
    expect(value).toBe('old')
    expect(t.stale).toEqual([{ store: 'main', key: 'k', reason: 'timeout' }])
    gate.resolve('new')
    // The background load writes; a later call finds the new value without loading.
    let finished = false
    while (!finished) {
      await new Promise((resolve) => setImmediate(resolve))
      finished = (await t.cache.get('k')) === 'new'
    }
    expect(await t.cache.remember('k', '1m', () => 'never', { grace: '6h' })).toBe('new')
  })

  test('soft timeout without a stale value: the caller waits for the load', async () => {
    await using t = setup()
    const gate = deferred<string>()
    const pending = t.cache.remember('k', '1m', () => gate.promise, { timeout: 1 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    gate.resolve('loaded')
    expect(await pending).toBe('loaded')
  })

  test('hard timeout: E_LOADER_TIMEOUT; the late value is still cached', async () => {
    await using t = setup()
    const gate = deferred<string>()
    const error = await t.cache
      .remember('k', '1m', () => gate.promise, { hardTimeout: 10 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LoaderTimeoutError)
    expect((error as LoaderTimeoutError).code).toBe('E_LOADER_TIMEOUT')
    gate.resolve('late')
    let cached: unknown
    while (cached === undefined) {
      await new Promise((resolve) => setImmediate(resolve))
      cached = await t.cache.get('k')
    }
    expect(cached).toBe('late')
  })

  test('a background load that fails after its caller left is reported as one error event', async () => {
    await using t = setup()
    const gate = deferred<string>()
    const options = { hardTimeout: 5 }
    const callers = Array.from({ length: 3 }, () =>
      t.cache.remember('k', '1m', () => gate.promise, options).catch((error: unknown) => error),
    )
    for (const error of await Promise.all(callers)) expect(error).toBeInstanceOf(LoaderTimeoutError)
    gate.reject(new Error('late failure'))
    while (t.errors.length === 0) await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(t.errors).toEqual([{ store: 'main', key: 'k', error: new Error('late failure') }])
  })
})

describe('remember: cache-wide options reach tagged caches', () => {
  test('a tagged remember serves its stale value under the cache-wide grace', async () => {
    const cache = createCache({
      default: 'main',
      stores: { main: new MemoryStore() },
      remember: { grace: '6h' },
    })
    await using _ = { [Symbol.asyncDispose]: () => cache.close() }
    const events: CacheEvents['servedStale'][] = []
    cache.on('servedStale', (event) => events.push(event))
    const tagged = cache.tags('products')
    // A 1 ms TTL: logically expired after the pause below, still kept for the grace period.
    expect(await tagged.remember('p', 1, () => 'first')).toBe('first')
    await new Promise((resolve) => setTimeout(resolve, 5))
    const failing = () => {
      throw new Error('db down')
    }
    expect(await tagged.remember('p', '1m', failing)).toBe('first')
    expect(events.map((event) => [event.key, event.reason])).toEqual([['p', 'error']])
  })
})
