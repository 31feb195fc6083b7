import assert from 'node:assert/strict'
import { assertMiss, assertSameBytes, bytes, randomKey, sleep } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { needsRetention } from './shared.js'

/** `add`: write only when absent or expired, resolve whether it wrote. */
export const addGroup: GroupDefinition = {
  title: 'add',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { ttl, beforeExpiry, afterExpiry } = settings.timing

    test('add on a missing key writes and resolves true', async (store) => {
      const key = randomKey()
      assert.equal(await store.add(key, bytes('first')), true)
      assertSameBytes(await store.get(key), bytes('first'))
    })

    test('add on a live key resolves false and leaves the value', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('first'))
      assert.equal(await store.add(key, bytes('second')), false)
      assertSameBytes(await store.get(key), bytes('first'))
    })

    test('add on a live key keeps its TTL', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('first'), ttl)
      assert.equal(await store.add(key, bytes('second')), false)
      await sleep(afterExpiry)
      assertMiss(await store.get(key))
    })

    test('add on an expired key takes it over', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('old'), ttl)
      await sleep(afterExpiry)
      assert.equal(await store.add(key, bytes('new')), true)
      assertSameBytes(await store.get(key), bytes('new'))
    })

    test('add applies its TTL', async (store) => {
      const key = randomKey()
      const start = Date.now()
      assert.equal(await store.add(key, bytes('v'), ttl), true)
      const written = Date.now()
      await sleep(beforeExpiry - (Date.now() - start))
      assert.equal(await store.has(key), true, `present at ~${beforeExpiry}ms`)
      await sleep(afterExpiry - (Date.now() - written))
      assert.equal(await store.has(key), false, `gone at ~${afterExpiry}ms`)
    })

    test('add after delete writes again', async (store) => {
      const key = randomKey()
      await store.add(key, bytes('first'))
      await store.delete(key)
      assert.equal(await store.add(key, bytes('second')), true)
      assertSameBytes(await store.get(key), bytes('second'))
    })

    test('add with ttl <= 0 writes nothing and resolves false', async (store) => {
      const key = randomKey()
      assert.equal(await store.add(key, bytes('v'), 0), false)
      assert.equal(await store.add(key, bytes('v'), -5), false)
      assert.equal(await store.has(key), false)
    })
  },
}
