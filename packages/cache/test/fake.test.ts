import { AssertionError } from 'node:assert'
import { MemoryStore } from '@cellar/memory'
import { describe, expect, test } from 'vitest'
import { createCache } from '../src/index.js'

// Application code under test: it only knows the cache it is given.
async function priceOf(cache: ReturnType<typeof make>, id: number): Promise<number> {
  return cache.remember(`price:${id}`, '10m', async () => id * 100)
}

function make() {
  return createCache({
    default: 'memory',
    stores: { memory: new MemoryStore(), other: new MemoryStore() },
  })
}

describe('cache.fake()', () => {
  test('records writes and asserts on them; the real store is untouched', async () => {
    const cache = make()
    const fake = cache.fake()
    expect(await priceOf(cache, 3)).toBe(300)
    fake.assertPut('price:3')
    fake.assertPut('price:3', 300, '10m')
    fake.assertPutCount(1)
    fake.assertNotPut('price:4')
    await fake.assertHas('price:3')
    await cache.store('other').forget('price:3')
    fake.assertForgotten('price:3')
    await fake.assertMissing('price:3')
    fake.restore()
    expect(await cache.get('price:3')).toBeUndefined()
    await cache.close()
  })

  test('failed assertions are AssertionErrors that list what was recorded', async () => {
    const cache = make()
    using fake = cache.fake()
    await cache.put('a', 1)
    await cache.increment('n')
    expect(() => fake.assertPut('b')).toThrow(AssertionError)
    expect(() => fake.assertPut('a', 2)).toThrow(
      /expected a write of a = 2; recorded: put a = 1, increment n = 1/,
    )
    expect(() => fake.assertNothingPut()).toThrow(/expected no writes/)
    expect(() => fake.assertPutCount(3)).toThrow(/expected 3 writes, saw 1/)
    expect(() => fake.assertLockAcquired('job')).toThrow(AssertionError)
    await cache.lock('job').get(() => 'ran')
    fake.assertLockAcquired('job')
  })

  test('`using` restores the real stores at the end of the scope', async () => {
    const cache = make()
    {
      using _fake = cache.fake()
      await cache.put('k', 'faked')
    }
    expect(await cache.get('k')).toBeUndefined()
    await cache.put('k', 'real')
    expect(await cache.get('k')).toBe('real')
    await cache.close()
  })
})
