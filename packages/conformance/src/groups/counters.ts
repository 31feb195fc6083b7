import assert from 'node:assert/strict'
import {
  assertMiss,
  assertRejectsWithCode,
  assertSameBytes,
  bytes,
  randomKey,
  sleep,
} from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { assertCounter, counterValue, needsRetention } from './shared.js'

/** `increment`: missing keys, deltas, TTL kept, refusals that leave the value alone. */
export const countersGroup: GroupDefinition = {
  title: 'counters',
  skipReason: needsRetention,
  define({ test, settings }) {
    test('increment on a missing key resolves the delta and stores it', async (store) => {
      const key = randomKey()
      assert.equal(await store.increment(key, 5), 5)
      await assertCounter(store, key, 5)
    })

    test('increment without a delta adds 1', async (store) => {
      const key = randomKey()
      assert.equal(await store.increment(key), 1)
      assert.equal(await store.increment(key), 2)
    })

    test('increment adds to the current value and resolves the new one', async (store) => {
      const key = randomKey()
      await store.increment(key, 10)
      assert.equal(await store.increment(key, 7), 17)
      await assertCounter(store, key, 17)
    })

    test('a negative delta decrements, below zero too', async (store) => {
      const key = randomKey()
      assert.equal(await store.increment(key, -3), -3)
      assert.equal(await store.increment(key, 10), 7)
      assert.equal(await store.increment(key, -9), -2)
      await assertCounter(store, key, -2)
    })

    test('delta 0 resolves the current value', async (store) => {
      const key = randomKey()
      await store.increment(key, 4)
      assert.equal(await store.increment(key, 0), 4)
    })

    test('increment continues from a counter written with set', async (store) => {
      const key = randomKey()
      await store.set(key, counterValue(settings, 41))
      assert.equal(await store.increment(key), 42)
      await assertCounter(store, key, 42)
    })

    test('counters are exact up to Number.MAX_SAFE_INTEGER', async (store) => {
      const key = randomKey()
      await store.increment(key, Number.MAX_SAFE_INTEGER - 1)
      assert.equal(await store.increment(key), Number.MAX_SAFE_INTEGER)
      await assertCounter(store, key, Number.MAX_SAFE_INTEGER)
    })

    test('increment keeps the TTL: the counter still expires', async (store) => {
      const { ttl, beforeExpiry, afterExpiry } = settings.timing
      const key = randomKey()
      const start = Date.now()
      await store.set(key, counterValue(settings, 1), ttl)
      const written = Date.now()
      assert.equal(await store.increment(key, 2), 3)
      await sleep(beforeExpiry - (Date.now() - start))
      await assertCounter(store, key, 3)
      await sleep(afterExpiry - (Date.now() - written))
      assertMiss(await store.get(key), 'an incremented counter must still expire')
    })

    const notNumbers: Array<[string, string]> = [
      ['a non-numeric value', 'abc'],
      ['a decimal value ("1.5")', '1.5'],
      ['a value with trailing text ("12abc")', '12abc'],
      ['an empty value', ''],
    ]
    for (const [label, text] of notNumbers) {
      test(`increment on ${label} throws E_NOT_A_NUMBER and leaves it unchanged`, async (store) => {
        const key = randomKey()
        await store.set(key, bytes(text))
        await assertRejectsWithCode(() => store.increment(key), 'E_NOT_A_NUMBER')
        assertSameBytes(await store.get(key), bytes(text))
      })
    }

    const badDeltas: Array<[string, unknown]> = [
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ["a string ('1')", '1'],
      ['2^53 (not a safe integer)', 2 ** 53],
    ]
    for (const [label, delta] of badDeltas) {
      test(`delta ${label} is refused with E_INVALID_ARGUMENT and nothing is written`, async (store) => {
        const [fresh, existing] = [randomKey(), randomKey()]
        await store.increment(existing, 3)
        await assertRejectsWithCode(
          () => store.increment(fresh, delta as number),
          'E_INVALID_ARGUMENT',
        )
        await assertRejectsWithCode(
          () => store.increment(existing, delta as number),
          'E_INVALID_ARGUMENT',
        )
        assert.equal(await store.has(fresh), false)
        await assertCounter(store, existing, 3)
      })
    }
  },
}
