import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { needsRetention } from './shared.js'

/** Writes each key with its own value, then checks every one reads back its own. */
async function assertDistinct(store: Store<unknown>, keys: readonly string[]): Promise<void> {
  for (const [i, key] of keys.entries()) await store.set(key, bytes(`value ${i}`))
  for (const [i, key] of keys.entries()) {
    assertSameBytes(await store.get(key), bytes(`value ${i}`), `key ${JSON.stringify(key)}`)
  }
  const got = await store.getMany(keys)
  for (const [i, key] of keys.entries()) {
    assertSameBytes(got[i], bytes(`value ${i}`), `getMany, key ${JSON.stringify(key)}`)
  }
}

/** Keys are opaque strings: any character, case and trailing space significant, long keys. */
export const keysGroup: GroupDefinition = {
  title: 'keys',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { maxKeyLength } = settings.capabilities

    test('unicode keys (accents, CJK, emoji, combining marks) round-trip', async (store) => {
      await assertDistinct(store, ['Zoë', '東京', '😀👍🏽', 'e\u0301', 'é', 'مرحبا'])
    })

    test('keys with spaces, tabs and newlines round-trip', async (store) => {
      await assertDistinct(store, ['a b', ' lead', 'tab\there', 'line\nbreak', 'cr\r\n', ' '])
    })

    test('glob characters *?[]{} in keys are literal', async (store) => {
      await store.set('ab', bytes('plain'))
      assert.equal(await store.has('a*'), false, '"a*" must not match "ab"')
      assert.equal(await store.has('a?'), false, '"a?" must not match "ab"')
      assert.equal(await store.has('a[b]'), false, '"a[b]" must not match "ab"')
      await assertDistinct(store, ['*', '?', 'a*', 'a?', '[ab]', '{a,b}', 'a\\*', '[^a]'])
      assert.equal(await store.delete('*'), true)
      assertSameBytes(await store.get('ab'), bytes('plain'))
      assertSameBytes(await store.get('a*'), bytes('value 2'))
    })

    test('separators, quotes and escapes in keys are literal', async (store) => {
      await assertDistinct(store, ['a:b', 'a/b', 'a\\b', 'a%b', 'a_b', "it's", 'say "hi"', 'a.b'])
      assert.equal(await store.has('axb'), false, '"a_b" / "a%b" must not act as patterns')
    })

    test('keys that differ only in case are distinct', async (store) => {
      await assertDistinct(store, ['key', 'Key', 'KEY'])
    })

    test('keys that differ only in trailing spaces are distinct', async (store) => {
      await assertDistinct(store, ['pad', 'pad ', 'pad  '])
    })

    test('keys that look like numbers stay strings', async (store) => {
      await assertDistinct(store, ['1', '01', '1.0', '-0', '0'])
    })

    const long = Math.min(maxKeyLength, 1024)
    test(`a ${long}-byte key round-trips`, async (store) => {
      const key = randomKey().padEnd(long, 'x')
      await store.set(key, bytes('long'))
      assertSameBytes(await store.get(key), bytes('long'))
      assert.equal(await store.delete(key), true)
    })

    test('long keys that differ only in their last character are distinct', async (store) => {
      const stem = randomKey().padEnd(long - 1, 'y')
      await assertDistinct(store, [`${stem}a`, `${stem}b`])
    })
  },
}
