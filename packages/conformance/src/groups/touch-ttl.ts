import assert from 'node:assert/strict'
import type { Ttl } from '@cellar/core'
import {
  assertMiss,
  assertRejectsWithCode,
  assertSameBytes,
  bytes,
  randomKey,
  sleep,
} from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import {
  assertCounter,
  assertRemaining,
  needsRetention,
  sleepUntil,
  stillWithin,
  ttlUnreadable,
} from './shared.js'

const LONG = 60_000

/**
 * `touch(key, ttl)` replaces the TTL of a live entry and never revives an expired one;
 * `ttl(key)` reads the remaining lifetime (`null` without expiry, `undefined` when missing).
 */
export const touchTtlGroup: GroupDefinition = {
  title: 'touch and ttl()',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { ttl, beforeExpiry, afterExpiry } = settings.timing
    const unreadable = ttlUnreadable(settings)

    test('touch resolves true for a live key, and a longer ttl outlives the old one', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), ttl)
      assert.equal(await store.touch(key, LONG), true)
      await sleep(afterExpiry)
      assertSameBytes(await store.get(key), bytes('v'), 'touch must keep the value')
    })

    test('touch with a short ttl makes a key without expiry expire', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      const start = Date.now()
      assert.equal(await store.touch(key, ttl), true)
      const touched = Date.now()
      await sleepUntil(start, beforeExpiry)
      const early = await store.get(key)
      if (stillWithin(start, ttl))
        assertSameBytes(early, bytes('v'), `present at ~${beforeExpiry}ms`)
      await sleepUntil(touched, afterExpiry)
      assertMiss(await store.get(key), `gone at ~${afterExpiry}ms`)
    })

    test('touch keeps a counter a counter', async (store) => {
      const key = randomKey()
      await store.increment(key, 41)
      assert.equal(await store.touch(key, LONG), true)
      assert.equal(await store.increment(key), 42)
      await assertCounter(store, key, 42)
    })

    test('touch resolves false for a missing key and creates nothing', async (store) => {
      const key = randomKey()
      assert.equal(await store.touch(key, LONG), false)
      assert.equal(await store.touch(key, null), false)
      assert.equal(await store.has(key), false)
    })

    test('touch resolves false for an expired key and does not revive it', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('old'), ttl)
      await sleep(afterExpiry)
      assert.equal(await store.touch(key, LONG), false)
      assertMiss(await store.get(key), 'an expired entry must stay gone after touch')
      assert.equal(await store.has(key), false)
    })

    test('touch(key, null) removes the expiry', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), ttl)
      assert.equal(await store.touch(key, null), true)
      if (unreadable === undefined) assert.equal(await store.ttl(key), null)
      await sleep(afterExpiry)
      assertSameBytes(await store.get(key), bytes('v'))
    })

    const zeros: Array<[string, Ttl]> = [
      ['0', 0],
      ['-1', -1],
      ["'0s'", '0s'],
    ]
    for (const [label, form] of zeros) {
      test(`touch(key, ${label}) removes a live key and resolves true`, async (store) => {
        const [live, missing] = [randomKey(), randomKey()]
        await store.set(live, bytes('v'))
        assert.equal(await store.touch(live, form), true)
        assert.equal(await store.has(live), false)
        assert.equal(await store.touch(missing, form), false, 'a missing key resolves false')
      })
    }

    const bad: Array<[string, unknown]> = [
      ['NaN', Number.NaN],
      ["'soon'", 'soon'],
      ["''", ''],
      ['an object', {}],
    ]
    for (const [label, form] of bad) {
      test(`touch with ttl ${label} is refused with E_INVALID_ARGUMENT and changes nothing`, async (store) => {
        const [key, missing] = [randomKey(), randomKey()]
        await store.set(key, bytes('v'))
        await assertRejectsWithCode(() => store.touch(key, form as Ttl), 'E_INVALID_ARGUMENT')
        await assertRejectsWithCode(() => store.touch(missing, form as Ttl), 'E_INVALID_ARGUMENT')
        assertSameBytes(await store.get(key), bytes('v'))
        if (unreadable === undefined) assert.equal(await store.ttl(key), null, 'expiry unchanged')
        assert.equal(await store.has(missing), false)
      })
    }

    test('ttl resolves undefined for a missing key', async (store) => {
      assert.equal(await store.ttl(randomKey()), undefined)
    })

    test(
      'ttl resolves null for entries without expiry (set, add, increment)',
      async (store) => {
        const [a, b, c] = [randomKey(), randomKey(), randomKey()]
        await store.set(a, bytes('v'))
        await store.add(b, bytes('v'), null)
        await store.increment(c)
        assert.equal(await store.ttl(a), null, 'set')
        assert.equal(await store.ttl(b), null, 'add')
        assert.equal(await store.ttl(c), null, 'increment')
      },
      { skip: unreadable },
    )

    test(
      'ttl resolves a whole number of ms in (0, written ttl] for a live entry',
      async (store) => {
        const [a, b, c, d] = [randomKey(), randomKey(), randomKey(), randomKey()]
        await store.set(a, bytes('v'), LONG)
        await store.set(b, bytes('v'), '1m')
        await store.add(c, bytes('v'), 30_000)
        await store.setMany([[d, bytes('v')]], 45_000)
        assertRemaining(await store.ttl(a), LONG, 'set 60000')
        assertRemaining(await store.ttl(b), LONG, "set '1m'")
        assertRemaining(await store.ttl(c), 30_000, 'add 30000')
        assertRemaining(await store.ttl(d), 45_000, 'setMany 45000')
      },
      { skip: unreadable },
    )

    test(
      'ttl follows touch',
      async (store) => {
        const key = randomKey()
        await store.set(key, bytes('v'), LONG)
        await store.touch(key, 20_000)
        assertRemaining(await store.ttl(key), 20_000, 'after touch(20000)')
        await store.touch(key, null)
        assert.equal(await store.ttl(key), null, 'after touch(null)')
      },
      { skip: unreadable },
    )

    test('ttl resolves undefined once the entry expired', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), ttl)
      await sleep(afterExpiry)
      assert.equal(await store.ttl(key), undefined)
    })

    test("ttl reads a namespace's own entry, not the parent's key of the same name", async (store) => {
      const child = store.namespace('child')
      await child.set('k', bytes('child'), LONG)
      await store.set('k', bytes('parent'))
      await store.set('only-parent', bytes('parent'), LONG)
      assert.equal(await child.ttl('only-parent'), undefined, 'missing in the namespace')
      assert.equal(await store.namespace('other').ttl('k'), undefined, 'a sibling namespace')
      if (unreadable !== undefined) return
      assertRemaining(await child.ttl('k'), LONG, 'the namespace entry')
      assert.equal(await store.ttl('k'), null, 'the parent entry')
    })

    test(
      'readsTtl false: ttl of a live key rejects with E_UNSUPPORTED',
      async (store) => {
        const key = randomKey()
        await store.set(key, bytes('v'), LONG)
        await assertRejectsWithCode(() => store.ttl(key), 'E_UNSUPPORTED')
        assert.equal(await store.ttl(randomKey()), undefined, 'a missing key is still undefined')
      },
      { skip: unreadable === undefined ? 'the store reads TTLs (readsTtl: true)' : undefined },
    )
  },
}
