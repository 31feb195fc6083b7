import assert from 'node:assert/strict'
import { assertRejectsWithCode, assertSameBytes, bytes, randomKey, sleep } from '../helpers.js'
import { preview } from '../preview.js'
import type { GroupDefinition } from '../types.js'
import { needsRetention } from './shared.js'

/** Keys in the large-batch test: past SQLite's 999 variables and any one-page SCAN or IN list. */
const BIG_BATCH = 5_000

/** `getMany`, `setMany`, `deleteMany`: order, all-or-nothing validation, counts. */
export const batchGroup: GroupDefinition = {
  title: 'batch',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { raw, maxKeyLength } = settings.capabilities

    test('getMany keeps request order, with misses and duplicates', async (store) => {
      const [a, b, missing] = [randomKey(), randomKey(), randomKey()]
      await store.set(a, bytes('A'))
      await store.set(b, bytes('B'))
      const got = await store.getMany([b, missing, a, b, missing])
      assert.equal(got.length, 5)
      assertSameBytes(got[0], bytes('B'))
      assert.equal(got[1], undefined)
      assertSameBytes(got[2], bytes('A'))
      assertSameBytes(got[3], bytes('B'))
      assert.equal(got[4], undefined)
    })

    test('getMany of no keys resolves []', async (store) => {
      assert.deepEqual(await store.getMany([]), [])
    })

    test('setMany writes every entry', async (store) => {
      const keys = Array.from({ length: 20 }, () => randomKey())
      await store.setMany(keys.map((key, i) => [key, bytes(`v${i}`)] as const))
      const got = await store.getMany(keys)
      keys.forEach((_, i) => {
        assertSameBytes(got[i], bytes(`v${i}`))
      })
    })

    test('setMany applies its TTL to every key', async (store) => {
      const keys = [randomKey(), randomKey(), randomKey()]
      const start = Date.now()
      await store.setMany(
        keys.map((key) => [key, bytes('v')] as const),
        settings.timing.ttl,
      )
      await sleep(settings.timing.beforeExpiry - (Date.now() - start))
      for (const key of keys) assert.equal(await store.has(key), true, `${key} present`)
      await sleep(settings.timing.afterExpiry - (Date.now() - start))
      assert.deepEqual(
        await store.getMany(keys),
        [undefined, undefined, undefined],
        'every key should be a miss',
      )
    })

    test('setMany with ttl 0 removes the listed keys', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      await store.set(a, bytes('a'))
      await store.set(b, bytes('b'))
      await store.setMany(
        [
          [a, bytes('x')],
          [b, bytes('y')],
        ],
        0,
      )
      assert.deepEqual(
        await store.getMany([a, b]),
        [undefined, undefined],
        'every key should be a miss',
      )
    })

    test('setMany with one invalid key writes nothing', async (store) => {
      const [a, b] = [randomKey(), randomKey()]
      for (const badKey of ['', 42]) {
        await assertRejectsWithCode(
          () =>
            store.setMany([
              [a, bytes('a')],
              [badKey as string, bytes('bad')],
              [b, bytes('b')],
            ]),
          'E_INVALID_KEY',
        )
      }
      assert.deepEqual(
        await store.getMany([a, b]),
        [undefined, undefined],
        'every key should be a miss',
      )
    })

    test(
      'setMany with one value that is not a Uint8Array writes nothing',
      async (store) => {
        const [a, b] = [randomKey(), randomKey()]
        await assertRejectsWithCode(
          () =>
            store.setMany([
              [a, bytes('a')],
              [b, 'not bytes'],
            ]),
          'E_INVALID_ARGUMENT',
        )
        assert.deepEqual(
          await store.getMany([a, b]),
          [undefined, undefined],
          'every key should be a miss',
        )
      },
      { skip: raw ? 'raw store: any value is accepted' : undefined },
    )

    test('setMany with a repeated key keeps the last value', async (store) => {
      const key = randomKey()
      await store.setMany([
        [key, bytes('first')],
        [key, bytes('last')],
      ])
      assertSameBytes(await store.get(key), bytes('last'))
    })

    test('setMany of no entries resolves', async (store) => {
      await store.setMany([])
      assert.equal(await store.has(randomKey()), false, 'the key should be absent')
    })

    test('deleteMany counts only the keys it removed', async (store) => {
      const [a, b, missing] = [randomKey(), randomKey(), randomKey()]
      await store.set(a, bytes('a'))
      await store.set(b, bytes('b'))
      assert.equal(await store.deleteMany([a, missing, b]), 2)
      assert.deepEqual(
        await store.getMany([a, b]),
        [undefined, undefined],
        'every key should be a miss',
      )
    })

    test('deleteMany counts a repeated key once', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      assert.equal(await store.deleteMany([key, key]), 1)
    })

    test('deleteMany of no keys resolves 0', async (store) => {
      assert.equal(await store.deleteMany([]), 0)
    })

    test(
      'getMany, setMany and deleteMany handle 5,000 keys at once',
      async (store) => {
        // Short keys (at most 9 bytes), so the batch fits any usable maxKeyLength.
        const stem = randomKey('').slice(-6)
        const keys = Array.from({ length: BIG_BATCH }, (_, i) => `${stem}${i.toString(36)}`)
        await store.setMany(keys.map((key, i) => [key, bytes(`v${i}`)] as const))
        const got = await store.getMany(keys)
        assert.equal(
          got.length,
          BIG_BATCH,
          `getMany of ${BIG_BATCH} keys should resolve ${BIG_BATCH} results`,
        )
        const wrong = keys.findIndex((_, i) => {
          const value = got[i]
          return !(value instanceof Uint8Array) || Buffer.from(value).toString() !== `v${i}`
        })
        assert.equal(
          wrong,
          -1,
          `getMany result ${wrong} should be "v${wrong}", got ${preview(got[wrong])}`,
        )
        assert.equal(
          await store.deleteMany(keys),
          BIG_BATCH,
          `deleteMany should remove all ${BIG_BATCH}`,
        )
        const after = await store.getMany(keys)
        assert.equal(
          after.filter((value) => value !== undefined).length,
          0,
          'every key should be gone',
        )
      },
      {
        skip:
          maxKeyLength < 9
            ? `maxKeyLength ${maxKeyLength} is below the 9 bytes of its keys`
            : undefined,
      },
    )

    test('getMany and deleteMany with one invalid key reject with E_INVALID_KEY', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('v'))
      await assertRejectsWithCode(() => store.getMany([key, '']), 'E_INVALID_KEY')
      await assertRejectsWithCode(() => store.deleteMany([key, '']), 'E_INVALID_KEY')
      assertSameBytes(await store.get(key), bytes('v'), 'deleteMany must remove nothing')
    })
  },
}
