import assert from 'node:assert/strict'
import { assertMiss, assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { needsRetention } from './shared.js'

/** get / set / has / delete on single keys, and namespaces keeping keys apart. */
export const basicGroup: GroupDefinition = {
  title: 'basic',
  skipReason: needsRetention,
  define({ test }) {
    test('get resolves undefined for a key never written', async (store) => {
      assertMiss(await store.get(randomKey()))
    })

    test('set then get resolves the same bytes', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('hello'))
      assertSameBytes(await store.get(key), bytes('hello'))
    })

    test('set on an existing key replaces its value', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('first'))
      await store.set(key, bytes('second'))
      assertSameBytes(await store.get(key), bytes('second'))
    })

    test('has resolves true for a stored key and false for a missing one', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      assert.equal(await store.has(key), true)
      assert.equal(await store.has(randomKey()), false)
    })

    test('delete resolves true and removes a stored key', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      assert.equal(await store.delete(key), true)
      assertMiss(await store.get(key))
      assert.equal(await store.has(key), false)
    })

    test('delete resolves false for a missing key', async (store) => {
      assert.equal(await store.delete(randomKey()), false)
    })

    test('delete removes only the given key', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      await store.set(a, bytes('a'))
      await store.set(b, bytes('b'))
      await store.delete(a)
      assertSameBytes(await store.get(b), bytes('b'))
    })

    test('a deleted key can be written again', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('old'))
      await store.delete(key)
      await store.set(key, bytes('new'))
      assertSameBytes(await store.get(key), bytes('new'))
    })

    test('the same key in two namespaces holds two values', async (store) => {
      const a = store.namespace('a')
      const b = store.namespace('b')
      await a.set('shared', bytes('in a'))
      await b.set('shared', bytes('in b'))
      assertSameBytes(await a.get('shared'), bytes('in a'))
      assertSameBytes(await b.get('shared'), bytes('in b'))
    })

    test("a namespace and its parent do not see each other's keys", async (store) => {
      const child = store.namespace('child')
      await store.set('parent-key', bytes('p'))
      await child.set('child-key', bytes('c'))
      assertMiss(await child.get('parent-key'))
      assertMiss(await store.get('child-key'))
      assert.equal(await child.delete('parent-key'), false)
      assertSameBytes(await store.get('parent-key'), bytes('p'))
    })

    test('a nested namespace is distinct from its parent namespace', async (store) => {
      const outer = store.namespace('outer')
      const inner = outer.namespace('inner')
      await outer.set('k', bytes('outer'))
      await inner.set('k', bytes('inner'))
      assertSameBytes(await outer.get('k'), bytes('outer'))
      assertSameBytes(await inner.get('k'), bytes('inner'))
    })
  },
}
