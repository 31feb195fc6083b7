import assert from 'node:assert/strict'
import { CacheGateway } from '@cellar/core'
import { assertRejectsWithCode, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { largeSize, needsRetention } from './shared.js'

/** Typed values through core's `CacheGateway` (default msgpack serializer) over the store. */
export const gatewayGroup: GroupDefinition = {
  title: 'gateway values',
  skipReason: needsRetention,
  define({ test, settings }) {
    for (const [label, value] of [
      ['null', null],
      ['false', false],
      ['0', 0],
      ['""', ''],
    ] as const) {
      test(`a stored ${label} is a hit, not a miss`, async (store) => {
        const gateway = new CacheGateway(store)
        const key = randomKey()
        await gateway.setValue(key, value)
        assert.equal(await gateway.getValue(key), value)
        assert.equal(await gateway.exists(key), true)
        assert.deepEqual(await gateway.multiGetValues([key]), [value])
      })
    }

    const roundTrips: Array<[string, () => unknown]> = [
      ['a plain object', () => ({ id: 7, name: 'Ada', active: true, score: 1.5 })],
      ['an array of mixed values', () => [1, 'two', null, false, 3.25, -4]],
      [
        'nested objects and arrays',
        () => ({ user: { roles: ['admin', { scope: 'x' }], meta: { a: [[1], [2, [3]]] } } }),
      ],
      ['a Date (as a Date)', () => new Date('2024-02-29T12:34:56.789Z')],
      ['unicode strings', () => 'Zoë · 東京 · 😀👍🏽 · مرحبا · e\u0301 · \u0000 end'],
      ['bytes inside a value', () => ({ blob: Uint8Array.from([0, 1, 254, 255]) })],
      [
        'integers at the safe limits and floats',
        () => [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1, 0.1, -2.5e-8, 1e300],
      ],
    ]
    for (const [label, make] of roundTrips) {
      test(`${label} round-trip`, async (store) => {
        const gateway = new CacheGateway(store)
        const key = randomKey()
        await gateway.setValue(key, make())
        assert.deepEqual(await gateway.getValue(key), make())
      })
    }

    // 'é' is two bytes in UTF-8, so the payload stays under half the store's value limit.
    const chars = Math.max(1, (largeSize(settings, 512 * 1024) >> 2) - 16)
    test(`a large string (${chars} two-byte characters) round-trips`, async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      const value = 'é'.repeat(chars)
      await gateway.setValue(key, value)
      assert.equal(await gateway.getValue(key), value)
    })

    test('incr on a missing key, then getValue, resolves a number', async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      assert.equal(await gateway.incr(key), 1)
      assert.equal(await gateway.incr(key, 4), 5)
      assert.equal(await gateway.getValue(key), 5)
    })

    test('setValue(5) then incr resolves 6, and getValue reads 6', async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      await gateway.setValue(key, 5)
      assert.equal(await gateway.incr(key), 6)
      assert.equal(await gateway.getValue(key), 6)
    })

    test('decr goes below zero and reads back as a negative number', async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      assert.equal(await gateway.decr(key, 3), -3)
      assert.equal(await gateway.getValue(key), -3)
    })

    test('incr on a serialized (non-counter) value throws E_NOT_A_NUMBER', async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      await gateway.setValue(key, { count: 1 })
      await assertRejectsWithCode(() => gateway.incr(key), 'E_NOT_A_NUMBER')
      assert.deepEqual(await gateway.getValue(key), { count: 1 })
    })

    test('multiSetValues then multiGetValues keeps order, with misses', async (store) => {
      const gateway = new CacheGateway(store)
      const [a, b, missing] = [randomKey(), randomKey(), randomKey()]
      await gateway.multiSetValues([
        [a, { n: 1 }],
        [b, 'two'],
      ])
      assert.deepEqual(await gateway.multiGetValues([b, missing, a]), ['two', undefined, { n: 1 }])
    })

    test('addValue writes once and leaves the first value', async (store) => {
      const gateway = new CacheGateway(store)
      const key = randomKey()
      assert.equal(await gateway.addValue(key, 'first'), true)
      assert.equal(await gateway.addValue(key, 'second'), false)
      assert.equal(await gateway.getValue(key), 'first')
    })

    test('a gateway prefix keeps its values apart from the bare store', async (store) => {
      const bare = new CacheGateway(store)
      const prefixed = new CacheGateway(store, { prefix: 'gw' })
      await bare.setValue('k', 'bare')
      await prefixed.setValue('k', 'prefixed')
      assert.equal(await bare.getValue('k'), 'bare')
      assert.equal(await prefixed.getValue('k'), 'prefixed')
    })
  },
}
