import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { bytes, randomKey, sleep } from '../helpers.js'
import type { GroupDefinition } from '../types.js'

/** Every key `keys()` yields, sorted; fails if a key is listed twice. */
async function listed(store: Store<unknown>): Promise<string[]> {
  if (typeof store.keys !== 'function') {
    assert.fail(`store "${store.name}" declares listsKeys but has no keys() method`)
  }
  const keys: string[] = []
  for await (const key of store.keys()) keys.push(key)
  const repeated = keys.filter((key, i) => keys.indexOf(key) !== i)
  assert.deepEqual(repeated, [], 'keys() must list each key once')
  return keys.sort()
}

function assertListed(actual: readonly string[], expected: readonly string[], where: string) {
  const want = [...expected].sort()
  const extra = actual.filter((key) => !want.includes(key))
  const missing = want.filter((key) => !actual.includes(key))
  assert.ok(
    extra.length === 0 && missing.length === 0,
    `${where}: expected keys() to list exactly ${JSON.stringify(want)}; ` +
      `it also listed ${JSON.stringify(extra)} and left out ${JSON.stringify(missing)}`,
  )
}

/** `keys()`, where declared: exactly the live keys of this namespace, nothing else. */
export const keysListingGroup: GroupDefinition = {
  title: 'keys() listing',
  skipReason: (settings) =>
    settings.capabilities.listsKeys ? undefined : 'the store declares no keys() (listsKeys: false)',
  define({ test, settings }) {
    const { retainsValues, locks } = settings.capabilities
    const { ttl, afterExpiry } = settings.timing
    const retains = retainsValues ? undefined : 'the store keeps nothing (retainsValues: false)'

    test('keys() of an empty store lists nothing', async (store) => {
      assertListed(await listed(store), [], 'a fresh store')
    })

    test(
      'keys() lists exactly the keys written, unicode and "~"-leading keys included',
      async (store) => {
        const keys = ['plain', 'Zoë', '東京', '😀', '~tilde', '~~double', 'a:b', 'with space']
        for (const key of keys) await store.set(key, bytes(key))
        await store.setMany([['batch', bytes('b')]])
        await store.add('added', bytes('a'))
        await store.increment('counter', 2)
        assertListed(await listed(store), [...keys, 'batch', 'added', 'counter'], 'the store')
      },
      { skip: retains },
    )

    test(
      'keys() leaves out deleted, expired and ttl-0 keys',
      async (store) => {
        await store.set('kept', bytes('v'))
        await store.set('deleted', bytes('v'))
        await store.delete('deleted')
        await store.set('expiring', bytes('v'), ttl)
        await store.set('zero', bytes('v'), 0)
        await sleep(afterExpiry)
        assertListed(await listed(store), ['kept'], 'after expiry')
      },
      { skip: retains },
    )

    test(
      "keys() of a store leaves out its namespaces' keys; a namespace lists only its own",
      async (store) => {
        const child = store.namespace('child')
        const inner = child.namespace('inner')
        const near = store.namespace('childx')
        await store.set('parent', bytes('p'))
        await child.set('own', bytes('c'))
        await inner.set('nested', bytes('n'))
        await near.set('near', bytes('x'))
        assertListed(await listed(store), ['parent'], 'the parent')
        assertListed(await listed(child), ['own'], 'namespace "child"')
        assertListed(await listed(inner), ['nested'], 'namespace "child" > "inner"')
        assertListed(await listed(near), ['near'], 'namespace "childx"')
      },
      { skip: retains },
    )

    test(
      'keys() never lists a lock or its bookkeeping',
      async (store, kit) => {
        const name = randomKey('lock')
        const lock = kit.lock(store, name)
        await store.set('entry', bytes('v'))
        assert.ok((await lock.acquire()) !== false, 'the lock should be acquired')
        assertListed(await listed(store), ['entry'], 'with a lock held')
      },
      { skip: retains ?? (locks ? undefined : 'the store declares no locks') },
    )

    test(
      'keys() lists every key of a large store (1,200 keys, more than one page)',
      async (store) => {
        const keys = Array.from({ length: 1_200 }, (_, i) => `many-${i}`)
        await store.setMany(keys.map((key) => [key, bytes('v')] as const))
        assertListed(await listed(store), keys, 'a store of 1,200 keys')
      },
      { skip: retains },
    )
  },
}
