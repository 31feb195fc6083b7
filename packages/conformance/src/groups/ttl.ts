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
import { needsRetention } from './shared.js'

/** A duration string equal to `ms`, in whole seconds when it divides. */
function durationString(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/** Expiry, the TTL forms (omitted, null, 'forever', <= 0, strings) and bad TTLs. */
export const ttlGroup: GroupDefinition = {
  title: 'ttl',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { ttl, beforeExpiry, afterExpiry } = settings.timing

    test(`an entry is present before its TTL (${ttl}ms) and gone after it`, async (store) => {
      const key = randomKey()
      const start = Date.now()
      await store.set(key, bytes('v'), ttl)
      const written = Date.now()
      await sleep(beforeExpiry - (Date.now() - start))
      assertSameBytes(await store.get(key), bytes('v'), `present at ~${beforeExpiry}ms`)
      await sleep(afterExpiry - (Date.now() - written))
      assertMiss(await store.get(key), `gone at ~${afterExpiry}ms`)
    })

    test('has turns false and getMany misses once the TTL has passed', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), ttl)
      await sleep(afterExpiry)
      assert.equal(await store.has(key), false)
      assert.deepEqual(await store.getMany([key]), [undefined])
    })

    const forever: Array<[string, Ttl]> = [
      ['omitted', undefined],
      ['null', null],
      ["'forever'", 'forever'],
      ['Infinity', Number.POSITIVE_INFINITY],
    ]
    for (const [label, form] of forever) {
      test(`ttl ${label} keeps the entry after a short TTL has passed`, async (store) => {
        const [short, kept] = [randomKey(), randomKey()]
        await store.set(short, bytes('short'), ttl)
        if (form === undefined) await store.set(kept, bytes('kept'))
        else await store.set(kept, bytes('kept'), form)
        await sleep(afterExpiry)
        assertMiss(await store.get(short), 'the short-TTL control entry should be gone')
        assertSameBytes(await store.get(kept), bytes('kept'))
      })
    }

    // A seconds string, as applications write them; the waits keep the same margins.
    const stringMs = Math.max(1000, Math.ceil(ttl / 1000) * 1000)
    const stringPresent = Math.max(beforeExpiry, Math.round(stringMs * 0.3))
    const stringGone = stringMs + (afterExpiry - ttl)
    test(`a duration string ('${durationString(stringMs)}') expires like its milliseconds`, async (store) => {
      const key = randomKey()
      const start = Date.now()
      await store.set(key, bytes('v'), durationString(stringMs))
      const written = Date.now()
      await sleep(stringPresent - (Date.now() - start))
      assert.equal(await store.has(key), true, `present at ~${stringPresent}ms`)
      await sleep(stringGone - (Date.now() - written))
      assert.equal(await store.has(key), false, `gone at ~${stringGone}ms`)
    })

    test("duration strings '1h' and '31d' (past memcached's 30-day rule) keep the entry", async (store) => {
      const [hour, month] = [randomKey(), randomKey()]
      await store.set(hour, bytes('h'), '1h')
      await store.set(month, bytes('m'), '31d')
      assertSameBytes(await store.get(hour), bytes('h'))
      assertSameBytes(await store.get(month), bytes('m'))
    })

    test('ttl 0 removes an existing key', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      await store.set(key, bytes('new'), 0)
      assertMiss(await store.get(key))
    })

    test('a negative ttl removes an existing key', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      await store.set(key, bytes('new'), -1000)
      assertMiss(await store.get(key))
      assert.equal(await store.has(key), false)
    })

    test('ttl 0 on a missing key writes nothing', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'), 0)
      assert.equal(await store.has(key), false)
    })

    test('overwriting without a TTL removes the old TTL', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('old'), ttl)
      await store.set(key, bytes('new'))
      await sleep(afterExpiry)
      assertSameBytes(await store.get(key), bytes('new'))
    })

    test('overwriting with a TTL applies it to a key that had none', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('old'))
      await store.set(key, bytes('new'), ttl)
      await sleep(afterExpiry)
      assertMiss(await store.get(key))
    })

    const bad: Array<[string, unknown]> = [
      ['NaN', Number.NaN],
      ["a bad string ('soon')", 'soon'],
      ["an empty string ('')", ''],
      ['an object', {}],
      ['a boolean', true],
    ]
    for (const [label, form] of bad) {
      test(`ttl ${label} is refused with E_INVALID_ARGUMENT and nothing is written`, async (store) => {
        const [existing, fresh] = [randomKey(), randomKey()]
        await store.set(existing, bytes('old'))
        await assertRejectsWithCode(
          () => store.set(existing, bytes('new'), form as Ttl),
          'E_INVALID_ARGUMENT',
        )
        await assertRejectsWithCode(
          () => store.set(fresh, bytes('new'), form as Ttl),
          'E_INVALID_ARGUMENT',
        )
        assertSameBytes(await store.get(existing), bytes('old'))
        assert.equal(await store.has(fresh), false)
      })
    }

    test('add and setMany refuse a bad TTL and write nothing', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      await assertRejectsWithCode(() => store.add(a, bytes('v'), Number.NaN), 'E_INVALID_ARGUMENT')
      await assertRejectsWithCode(
        () =>
          store.setMany(
            [
              [a, bytes('a')],
              [b, bytes('b')],
            ],
            'never',
          ),
        'E_INVALID_ARGUMENT',
      )
      assert.deepEqual(await store.getMany([a, b]), [undefined, undefined])
    })
  },
}
