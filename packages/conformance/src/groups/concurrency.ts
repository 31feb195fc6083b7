import assert from 'node:assert/strict'
import { assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { assertCounter, needsRetention } from './shared.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * Concurrent calls. Within one process every store that keeps values must count exactly (a
 * store that cannot do it natively serializes per key); across clients only what is declared.
 */
export const concurrencyGroup: GroupDefinition = {
  title: 'concurrency',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { atomicAdd, atomicCounters, sharedAcrossProcesses } = settings.capabilities
    const noSibling =
      settings.sibling === undefined ? 'no options.sibling (a second client) was given' : undefined
    const notShared = sharedAcrossProcesses
      ? noSibling
      : 'the store is not shared across processes (sharedAcrossProcesses: false)'

    test('100 concurrent increments end at exactly 100, each result distinct', async (store) => {
      const key = randomKey()
      const results = await Promise.all(range(100).map(() => store.increment(key)))
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        range(100).map((i) => i + 1),
      )
      await assertCounter(store, key, 100)
    })

    test('concurrent increments and decrements net out exactly', async (store) => {
      const key = randomKey()
      await Promise.all(range(100).map((i) => store.increment(key, i % 2 === 0 ? 3 : -1)))
      await assertCounter(store, key, 100)
    })

    test(
      '20 concurrent adds of one key: exactly one resolves true and its value stays',
      async (store) => {
        const key = randomKey()
        const results = await Promise.all(range(20).map((i) => store.add(key, bytes(`w${i}`))))
        assert.equal(results.filter(Boolean).length, 1, `winners: ${results.join(',')}`)
        assertSameBytes(await store.get(key), bytes(`w${results.indexOf(true)}`))
      },
      { skip: atomicAdd ? undefined : 'add is not declared atomic (atomicAdd: false)' },
    )

    test('50 concurrent writes to distinct keys all land', async (store) => {
      const keys = range(50).map(() => randomKey())
      await Promise.all(keys.map((key, i) => store.set(key, bytes(`v${i}`))))
      const got = await Promise.all(keys.map((key) => store.get(key)))
      for (const i of range(50)) assertSameBytes(got[i], bytes(`v${i}`))
    })

    test('concurrent writes to one key leave one whole written value', async (store) => {
      const key = randomKey()
      const values = range(20).map((i) => bytes(`${String(i).repeat(200)}`))
      await Promise.all(values.map((value) => store.set(key, value)))
      const stored = await store.get(key)
      assert.ok(
        values.some((value) => Buffer.from(value).equals(Buffer.from(stored as Uint8Array))),
        'the stored value must equal one of the written values, not a mix',
      )
    })

    test(
      'a write through one client is read through another, and a delete too',
      async (store, kit) => {
        const other = await kit.sibling()
        const key = randomKey()
        await store.set(key, bytes('shared'))
        assertSameBytes(await other.get(key), bytes('shared'))
        assert.equal(await other.delete(key), true)
        assert.equal(await store.has(key), false)
      },
      { skip: notShared },
    )

    test(
      'increments through two clients at once end exact',
      async (store, kit) => {
        const other = await kit.sibling()
        const key = randomKey()
        await Promise.all(range(100).map((i) => (i % 2 === 0 ? store : other).increment(key)))
        await assertCounter(store, key, 100)
      },
      {
        skip: atomicCounters ? notShared : 'increment is not declared atomic across clients',
      },
    )

    test(
      'adds through two clients at once: exactly one wins',
      async (store, kit) => {
        const other = await kit.sibling()
        const key = randomKey()
        const results = await Promise.all(
          range(20).map((i) => (i % 2 === 0 ? store : other).add(key, bytes(`w${i}`))),
        )
        assert.equal(results.filter(Boolean).length, 1)
      },
      { skip: atomicAdd ? notShared : 'add is not declared atomic (atomicAdd: false)' },
    )
  },
}
