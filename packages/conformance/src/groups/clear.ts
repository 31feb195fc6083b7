import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { assertMiss, assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { needsRetention } from './shared.js'

async function expectKept(store: Store<unknown>, key: string, text: string, who: string) {
  assertSameBytes(await store.get(key), bytes(text), `${who} must keep "${key}"`)
}

/** `clear()` removes its own prefix and nothing else, whatever characters the prefix holds. */
export const clearGroup: GroupDefinition = {
  title: 'clear and prefix isolation',
  skipReason: needsRetention,
  define({ test }) {
    test('clear removes every entry of the store, counters and TTL entries too', async (store) => {
      const [plain, counter, timed] = [randomKey(), randomKey(), randomKey()]
      await store.set(plain, bytes('v'))
      await store.increment(counter, 3)
      await store.set(timed, bytes('t'), 60_000)
      await store.clear()
      assert.deepEqual(await store.getMany([plain, counter, timed]), [
        undefined,
        undefined,
        undefined,
      ])
    })

    test("clearing a namespace keeps the parent's and the sibling's keys", async (store) => {
      const a = store.namespace('a')
      const b = store.namespace('b')
      await store.set('k', bytes('parent'))
      await a.set('k', bytes('a'))
      await b.set('k', bytes('b'))
      await a.clear()
      assertMiss(await a.get('k'))
      await expectKept(store, 'k', 'parent', 'the parent')
      await expectKept(b, 'k', 'b', 'the sibling namespace')
    })

    test("clearing the parent removes its own keys and its namespaces' keys", async (store) => {
      const child = store.namespace('child')
      await store.set('own', bytes('own'))
      await child.set('nested', bytes('nested'))
      await store.clear()
      assertMiss(await store.get('own'))
      assertMiss(await child.get('nested'))
    })

    test('clearing a nested namespace keeps its parent namespace', async (store) => {
      const outer = store.namespace('outer')
      const inner = outer.namespace('inner')
      await outer.set('k', bytes('outer'))
      await inner.set('k', bytes('inner'))
      await inner.clear()
      assertMiss(await inner.get('k'))
      await expectKept(outer, 'k', 'outer', 'the outer namespace')
    })

    test('clearing namespace "a" keeps namespace "ab" (prefix boundary)', async (store) => {
      const a = store.namespace('a')
      const ab = store.namespace('ab')
      await a.set('k', bytes('a'))
      await ab.set('k', bytes('ab'))
      await a.clear()
      await expectKept(ab, 'k', 'ab', 'namespace "ab"')
    })

    test('clearing a namespace named with glob characters removes nothing else', async (store) => {
      const others = ['nx', 'n1', 'nab', 'n']
      for (const name of others) await store.namespace(name).set('k', bytes(name))
      for (const glob of ['n*', 'n?', 'n[x1]', 'n{x,1}', 'n\\']) {
        const ns = store.namespace(glob)
        await ns.set('k', bytes('glob'))
        await ns.clear()
        assertMiss(await ns.get('k'))
      }
      for (const name of others) await expectKept(store.namespace(name), 'k', name, name)
    })

    test('clearing a namespace named with SQL LIKE characters removes nothing else', async (store) => {
      for (const name of ['px', 'pxy', 'p_', 'p%']) {
        await store.namespace(name).set('k', bytes(name))
      }
      // A naive `LIKE 'p_:%'` would also match "px:k", and `LIKE 'p%:%'` everything above.
      await store.namespace('p_').clear()
      assertMiss(await store.namespace('p_').get('k'))
      for (const name of ['px', 'pxy', 'p%']) {
        await expectKept(store.namespace(name), 'k', name, `namespace "${name}"`)
      }
      await store.namespace('p%').clear()
      assertMiss(await store.namespace('p%').get('k'))
      for (const name of ['px', 'pxy']) {
        await expectKept(store.namespace(name), 'k', name, `namespace "${name}"`)
      }
    })

    test('clear on an empty store resolves', async (store) => {
      await store.clear()
      await store.clear()
      assert.equal(await store.has(randomKey()), false, 'the key should be absent')
    })

    test('the store takes writes after clear', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('before'))
      await store.clear()
      await store.set(key, bytes('after'))
      assertSameBytes(await store.get(key), bytes('after'))
    })

    test('clear leaves keys that merely contain the prefix text', async (store) => {
      const ns = store.namespace('tenant')
      await store.set('tenant', bytes('bare'))
      await store.set('x:tenant:k', bytes('inside'))
      await ns.set('k', bytes('ns'))
      await ns.clear()
      await expectKept(store, 'tenant', 'bare', 'the parent')
      await expectKept(store, 'x:tenant:k', 'inside', 'the parent')
    })
  },
}
