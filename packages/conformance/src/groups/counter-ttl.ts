import assert from 'node:assert/strict'
import { decodeCounter, type Ttl } from '@cellar/core'
import { assertMiss, assertRejectsWithCode, randomKey, sleep } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import {
  assertCounter,
  assertRemaining,
  needsRetention,
  sleepUntil,
  stillWithin,
  ttlUnreadable,
} from './shared.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const LONG = 60_000

/**
 * `increment(key, delta, { ttl })`: the TTL applies only when this increment creates the counter,
 * in the same atomic step; an existing counter keeps its own TTL.
 */
export const counterTtlGroup: GroupDefinition = {
  title: 'increment with ttl',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { ttl, beforeExpiry, afterExpiry } = settings.timing
    const { atomicCounters, sharedAcrossProcesses } = settings.capabilities
    const unreadable = ttlUnreadable(settings)

    test('the ttl of the increment that creates a counter makes it expire', async (store) => {
      const key = randomKey()
      const start = Date.now()
      assert.equal(await store.increment(key, 2, { ttl }), 2)
      const written = Date.now()
      await sleepUntil(start, beforeExpiry)
      const early = await store.get(key)
      if (stillWithin(start, ttl)) assert.equal(decodeCounter(early), 2, 'present before its ttl')
      await sleepUntil(written, afterExpiry)
      assertMiss(await store.get(key), 'a counter created with a ttl must expire')
    })

    test(
      'a counter created with a ttl reports it through ttl()',
      async (store) => {
        const key = randomKey()
        await store.increment(key, 1, { ttl: LONG })
        assertRemaining(await store.ttl(key), LONG)
        await store.increment(key, 1, { ttl: '1m' })
        assertRemaining(await store.ttl(key), LONG, 'after a second increment')
      },
      { skip: unreadable },
    )

    test('a counter without expiry ignores the ttl of a later increment', async (store) => {
      const key = randomKey()
      await store.increment(key, 1)
      assert.equal(await store.increment(key, 1, { ttl }), 2)
      if (unreadable === undefined) assert.equal(await store.ttl(key), null)
      await sleep(afterExpiry)
      await assertCounter(store, key, 2)
    })

    test('a counter keeps its own ttl when later increments pass another', async (store) => {
      const key = randomKey()
      await store.increment(key, 1, { ttl })
      const written = Date.now()
      assert.equal(await store.increment(key, 1, { ttl: LONG }), 2)
      assert.equal(await store.increment(key, 1, { ttl: null }), 3)
      assert.equal(await store.increment(key, 1), 4)
      await sleepUntil(written, afterExpiry)
      assertMiss(await store.get(key), 'the first ttl must still apply')
    })

    test('ttl null and an omitted ttl create counters that never expire', async (store) => {
      const [control, forever, omitted] = [randomKey(), randomKey(), randomKey()]
      await store.increment(control, 1, { ttl })
      await store.increment(forever, 1, { ttl: null })
      await store.increment(omitted, 1, {})
      if (unreadable === undefined) {
        assert.equal(await store.ttl(forever), null, 'ttl null')
        assert.equal(await store.ttl(omitted), null, 'ttl omitted (no default TTL)')
      }
      await sleep(afterExpiry)
      assertMiss(await store.get(control), 'the short-ttl control counter should be gone')
      await assertCounter(store, forever, 1)
      await assertCounter(store, omitted, 1)
    })

    const zeros: Array<[string, Ttl]> = [
      ['0', 0],
      ['-1000', -1000],
      ["'0s'", '0s'],
      ["'0ms'", '0ms'],
      ["'0m'", '0m'],
    ]
    for (const [label, form] of zeros) {
      test(`ttl ${label} on create resolves the delta and keeps nothing`, async (store) => {
        const key = randomKey()
        assert.equal(await store.increment(key, 5, { ttl: form }), 5)
        assert.equal(await store.has(key), false)
        assert.equal(await store.increment(key), 1, 'the next increment starts from 0')
      })
    }

    test('ttl 0 given to an existing counter leaves it counting', async (store) => {
      const key = randomKey()
      await store.increment(key, 3)
      assert.equal(await store.increment(key, 1, { ttl: 0 }), 4)
      await assertCounter(store, key, 4)
    })

    const bad: Array<[string, unknown]> = [
      ['NaN', Number.NaN],
      ["'soon'", 'soon'],
      ['an object', {}],
    ]
    for (const [label, form] of bad) {
      test(`ttl ${label} is refused with E_INVALID_ARGUMENT and nothing changes`, async (store) => {
        const [fresh, existing] = [randomKey(), randomKey()]
        await store.increment(existing, 3)
        const options = { ttl: form as Ttl }
        await assertRejectsWithCode(() => store.increment(fresh, 1, options), 'E_INVALID_ARGUMENT')
        await assertRejectsWithCode(
          () => store.increment(existing, 1, options),
          'E_INVALID_ARGUMENT',
        )
        assert.equal(await store.has(fresh), false)
        await assertCounter(store, existing, 3)
      })
    }

    // Distinct results 1..n prove that every increment counted. A race's length is not bounded,
    // so counting is checked under a long TTL, and expiry only once the race is over.
    test('20 concurrent first increments with a ttl all count and leave that ttl', async (store) => {
      const key = randomKey()
      const results = await Promise.all(range(20).map(() => store.increment(key, 1, { ttl: LONG })))
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        range(20).map((i) => i + 1),
      )
      await assertCounter(store, key, 20)
      if (unreadable === undefined) assertRemaining(await store.ttl(key), LONG)
    })

    test('a counter created by 20 concurrent first increments with a ttl expires', async (store) => {
      const key = randomKey()
      await Promise.all(range(20).map(() => store.increment(key, 1, { ttl })))
      await sleep(afterExpiry)
      assertMiss(await store.get(key), 'the counter created by the race must expire')
    })

    const notShared = !sharedAcrossProcesses
      ? 'the store is not shared across processes (sharedAcrossProcesses: false)'
      : settings.sibling === undefined
        ? 'no options.sibling (a second client) was given'
        : undefined
    test(
      'first increments with a ttl through two clients at once all count and keep the ttl',
      async (store, kit) => {
        const other = await kit.sibling()
        const [counted, expiring] = [randomKey(), randomKey()]
        const both = (key: string, ttl: number) =>
          Promise.all(
            range(40).map((i) => (i % 2 === 0 ? store : other).increment(key, 1, { ttl })),
          )
        const results = await both(counted, LONG)
        assert.deepEqual(
          [...results].sort((a, b) => a - b),
          range(40).map((i) => i + 1),
        )
        if (unreadable === undefined) assertRemaining(await other.ttl(counted), LONG)
        await both(expiring, ttl)
        await sleep(afterExpiry)
        assertMiss(await other.get(expiring), 'the counter created by the race must expire')
      },
      { skip: atomicCounters ? notShared : 'increment is not declared atomic across clients' },
    )
  },
}
