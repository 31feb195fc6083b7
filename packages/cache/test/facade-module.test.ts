import { nullDriver } from '@cellar/core'
import { afterEach, describe, expect, test } from 'vitest'
import { Cache, createCache, FakeStore } from '../src/index.js'

afterEach(() => Cache.unbind())

describe('the module-level Cache', () => {
  test('refuses calls until bound, then forwards every method to the bound cache', async () => {
    expect(() => Cache.get('k')).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }))
    const cache = createCache({ default: 'fake', stores: { fake: new FakeStore() } })
    Cache.bind(cache)
    await Cache.put('k', 'v')
    expect(await Cache.get('k')).toBe('v')
    expect(await cache.get('k')).toBe('v')
    expect(await Cache.remember('r', '1m', () => 41 + 1)).toBe(42)
    expect(Cache.instance()).toBe(cache)
    await cache.close()
  })

  test('binds lazily from the environment: the cache is built on first use', async () => {
    let built = 0
    const counting = {
      ...nullDriver,
      name: 'fake',
      create: () => {
        built++
        return new FakeStore()
      },
    }
    Cache.bindFromEnv({ drivers: [counting], env: { CACHE_STORE: 'fake', CACHE_PREFIX: 'app' } })
    expect(built).toBe(0)
    await Cache.put('k', 1)
    expect(await Cache.get('k')).toBe(1)
    expect(built).toBe(1)
    await Cache.close()
  })
})
