import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { assertMiss, assertSameBytes, bytes } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { assertCounter, needsRetention } from './shared.js'

type Spot = readonly [store: Store<unknown>, key: string, label: string]

/** Writes a distinct value at every spot, then checks every spot reads back its own. */
async function assertApart(spots: readonly Spot[]): Promise<void> {
  for (const [i, [store, key]] of spots.entries()) await store.set(key, bytes(`value ${i}`))
  for (const [i, [store, key, label]] of spots.entries()) {
    assertSameBytes(await store.get(key), bytes(`value ${i}`), `${label} must keep its own value`)
  }
}

async function expectKept(store: Store<unknown>, key: string, text: string, who: string) {
  assertSameBytes(await store.get(key), bytes(text), `${who} must keep "${key}"`)
}

/**
 * A namespace's keys are unreachable from its parent's plain keys, from sibling namespaces
 * (even one whose name starts with its name or holds `:`) and from nested namespaces.
 */
export const namespacesGroup: GroupDefinition = {
  title: 'namespaces that cannot alias',
  skipReason: needsRetention,
  define({ test }) {
    test("the root key 'users:42' and key '42' of namespace('users') are two entries", async (store) => {
      const users = store.namespace('users')
      await assertApart([
        [store, 'users:42', "the root's users:42"],
        [users, '42', "namespace('users')'s 42"],
      ])
      assert.equal(await users.delete('42'), true)
      await expectKept(store, 'users:42', 'value 0', 'the root')
    })

    test("a namespace entry is unreachable through the root's 'users:42'", async (store) => {
      const users = store.namespace('users')
      await users.set('42', bytes('ns'))
      assertMiss(await store.get('users:42'), 'get')
      assert.deepEqual(await store.getMany(['users:42']), [undefined], 'getMany')
      assert.equal(await store.has('users:42'), false, 'has')
      assert.equal(await store.touch('users:42', 60_000), false, 'touch')
      assert.equal(await store.ttl('users:42'), undefined, 'ttl')
      assert.equal(await store.delete('users:42'), false, 'delete')
      assert.equal(await store.deleteMany(['users:42']), 0, 'deleteMany')
      assert.equal(await store.increment('users:42'), 1, 'increment starts a new counter')
      await expectKept(users, '42', 'ns', "namespace('users')")
    })

    test("the root's 'users:42' is unreachable through namespace('users')", async (store) => {
      const users = store.namespace('users')
      await store.set('users:42', bytes('root'))
      assertMiss(await users.get('42'), 'get')
      assert.deepEqual(await users.getMany(['42']), [undefined], 'getMany')
      assert.equal(await users.has('42'), false, 'has')
      assert.equal(await users.touch('42', 0), false, 'touch')
      assert.equal(await users.ttl('42'), undefined, 'ttl')
      assert.equal(await users.delete('42'), false, 'delete')
      assert.equal(await users.deleteMany(['42']), 0, 'deleteMany')
      assert.equal(await users.increment('42', 5), 5, 'increment starts a new counter')
      await expectKept(store, 'users:42', 'root', 'the root')
      await assertCounter(users, '42', 5)
    })

    test("namespace('users').clear() keeps the root's 'users:…' keys", async (store) => {
      const users = store.namespace('users')
      await store.set('users:42', bytes('root'))
      await store.set('users:', bytes('bare'))
      await users.set('42', bytes('ns'))
      await users.clear()
      assertMiss(await users.get('42'))
      await expectKept(store, 'users:42', 'root', 'the root')
      await expectKept(store, 'users:', 'bare', 'the root')
    })

    test("sibling namespaces 'user' and 'users' are apart, and clearing one keeps the other", async (store) => {
      const [user, users] = [store.namespace('user'), store.namespace('users')]
      await assertApart([
        [user, 's1', "'user' key s1"],
        [user, 's:1', "'user' key s:1"],
        [users, '1', "'users' key 1"],
        [users, ':1', "'users' key :1"],
      ])
      await user.clear()
      await expectKept(users, '1', 'value 2', "namespace 'users'")
      await expectKept(users, ':1', 'value 3', "namespace 'users'")
    })

    test("namespace 'a' key 'b:k', namespace 'a:b' key 'k' and nested 'a' → 'b' key 'k' are apart", async (store) => {
      const a = store.namespace('a')
      const ab = store.namespace('a:b')
      const nested = a.namespace('b')
      await assertApart([
        [a, 'b:k', "'a' key b:k"],
        [ab, 'k', "'a:b' key k"],
        [nested, 'k', "'a' → 'b' key k"],
        [store, 'a:b:k', 'root key a:b:k'],
      ])
      await ab.clear()
      await expectKept(a, 'b:k', 'value 0', "namespace 'a'")
      await expectKept(nested, 'k', 'value 2', "namespace 'a' → 'b'")
      await a.clear()
      await expectKept(store, 'a:b:k', 'value 3', 'the root')
    })

    test("names holding ':', '~' and '%' (and their escapes) are distinct namespaces", async (store) => {
      const names = ['x:y', 'x%3Ay', 'x~y', 'x%7Ey', 'x%y', 'x%25y', '~', '~~', '%', ':', 'x']
      await assertApart([
        ...names.map((name): Spot => [store.namespace(name), 'k', `namespace ${name}`]),
        [store.namespace('x'), 'y:k', 'namespace x key y:k'],
        [store, 'x:y:k', 'root key x:y:k'],
      ])
      await store.namespace('x:y').clear()
      await store.namespace('~').clear()
      for (const [i, name] of names.entries()) {
        if (name === 'x:y' || name === '~') continue
        await expectKept(store.namespace(name), 'k', `value ${i}`, `namespace ${name}`)
      }
    })

    test('unicode namespace names are distinct namespaces', async (store) => {
      const names = ['東京', '東', 'Zoë', 'Zoe\u0308', '😀', '😀😀', 'é', 'e']
      await assertApart(names.map((name) => [store.namespace(name), 'k', `namespace ${name}`]))
    })

    test("root keys starting with '~' never reach a namespace", async (store) => {
      const users = store.namespace('users')
      await assertApart([
        [store, '~users:42', 'root key ~users:42'],
        [store, '~~users:42', 'root key ~~users:42'],
        [store, '~', 'root key ~'],
        [users, '42', "namespace('users') key 42"],
        [users, '~42', "namespace('users') key ~42"],
      ])
      await users.clear()
      await expectKept(store, '~users:42', 'value 0', 'the root')
      await expectKept(store, '~~users:42', 'value 1', 'the root')
      assertMiss(await users.get('~42'))
    })

    test("a nested namespace cannot alias its parent namespace's keys", async (store) => {
      const outer = store.namespace('outer')
      const inner = outer.namespace('inner')
      await assertApart([
        [outer, 'inner:k', "'outer' key inner:k"],
        [outer, '~inner:k', "'outer' key ~inner:k"],
        [inner, 'k', "'outer' → 'inner' key k"],
        [store, 'outer:inner:k', 'root key outer:inner:k'],
      ])
      await inner.clear()
      await expectKept(outer, 'inner:k', 'value 0', "namespace 'outer'")
      await expectKept(outer, '~inner:k', 'value 1', "namespace 'outer'")
    })

    test('clearing a namespace removes the entries of namespaces nested in it', async (store) => {
      const a = store.namespace('a')
      const deep = a.namespace('b').namespace('c')
      await a.set('own', bytes('a'))
      await a.namespace('b').set('k', bytes('b'))
      await deep.set('k', bytes('c'))
      await store.set('a', bytes('root'))
      await store.namespace('ab').set('k', bytes('ab'))
      await a.clear()
      assertMiss(await a.get('own'))
      assertMiss(await a.namespace('b').get('k'))
      assertMiss(await deep.get('k'))
      await expectKept(store, 'a', 'root', 'the root')
      await expectKept(store.namespace('ab'), 'k', 'ab', "namespace 'ab'")
    })

    test('two handles of one namespace name share its entries', async (store) => {
      await store.namespace('shared').set('k', bytes('v'))
      await expectKept(store.namespace('shared'), 'k', 'v', 'a second handle')
      await store.namespace('shared').clear()
      assertMiss(await store.namespace('shared').get('k'))
    })
  },
}
