import assert from 'node:assert/strict'
import { assertMiss, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'

/** The contract of a store that keeps nothing (`retainsValues: false`, like `NullStore`). */
export const discardsGroup: GroupDefinition = {
  title: 'discards',
  skipReason: (settings) =>
    settings.capabilities.retainsValues
      ? 'the store keeps values (retainsValues: true); the retaining groups cover it'
      : undefined,
  define({ test }) {
    test('get misses after set', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      assertMiss(await store.get(key))
    })

    test('has resolves false after set', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), null)
      assert.equal(await store.has(key), false)
    })

    test('getMany misses every key after setMany', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      await store.setMany([
        [a, bytes('a')],
        [b, bytes('b')],
      ])
      assert.deepEqual(await store.getMany([a, b]), [undefined, undefined])
    })

    test('add resolves false, every time', async (store) => {
      const key = randomKey()
      assert.equal(await store.add(key, bytes('v')), false)
      assert.equal(await store.add(key, bytes('v')), false)
    })

    test('delete resolves false after set', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      assert.equal(await store.delete(key), false)
    })

    test('deleteMany resolves 0 after setMany', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      await store.setMany([
        [a, bytes('a')],
        [b, bytes('b')],
      ])
      assert.equal(await store.deleteMany([a, b]), 0)
    })

    test('increment resolves the delta every time', async (store) => {
      const key = randomKey()
      assert.equal(await store.increment(key, 5), 5)
      assert.equal(await store.increment(key, 5), 5)
      assert.equal(await store.increment(key), 1)
    })

    test('increment with a ttl resolves the delta and keeps nothing', async (store) => {
      const key = randomKey()
      assert.equal(await store.increment(key, 3, { ttl: 60_000 }), 3)
      assert.equal(await store.has(key), false)
    })

    test('touch resolves false and ttl undefined after set', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), 60_000)
      assert.equal(await store.touch(key, 60_000), false)
      assert.equal(await store.ttl(key), undefined)
    })

    test('clear resolves, and namespaces keep nothing either', async (store) => {
      const ns = store.namespace('ns')
      await ns.set('k', bytes('v'))
      assertMiss(await ns.get('k'))
      await store.clear()
      await ns.clear()
    })
  },
}
