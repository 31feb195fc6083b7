import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { largeSize, needsRetention } from './shared.js'

const RAW_ONLY = 'byte store: values are Uint8Array only (raw stores keep any value)'
const BYTES_ONLY = 'raw store: values are kept by reference, so callers share them by design'

/** Byte-exact storage of values at store level, and what raw stores give back. */
export const valuesGroup: GroupDefinition = {
  title: 'values',
  skipReason: needsRetention,
  define({ test, settings }) {
    const { raw } = settings.capabilities

    test('an empty Uint8Array is a hit, not a miss', async (store) => {
      const key = randomKey()
      await store.set(key, new Uint8Array(0))
      assertSameBytes(await store.get(key), new Uint8Array(0))
      assert.equal(await store.has(key), true)
    })

    test('all 256 byte values round-trip byte-exact', async (store) => {
      const key = randomKey()
      const all = Uint8Array.from({ length: 256 }, (_, i) => i)
      await store.set(key, all)
      assertSameBytes(await store.get(key), all)
    })

    test('bytes that are invalid UTF-8 (and NUL at both ends) round-trip', async (store) => {
      const key = randomKey()
      const value = Uint8Array.from([0, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0])
      await store.set(key, value)
      assertSameBytes(await store.get(key), value)
    })

    const large = largeSize(settings, 1024 * 1024)
    test(`a large value (${large} bytes) round-trips byte-exact`, async (store) => {
      const key = randomKey()
      const value = new Uint8Array(randomBytes(large))
      await store.set(key, value)
      assertSameBytes(await store.get(key), value)
    })

    test('a value that looks like a number reads back as the same bytes', async (store) => {
      const key = randomKey()
      await store.set(key, bytes('0042'))
      assertSameBytes(await store.get(key), bytes('0042'))
    })

    test('a subarray view stores only its own bytes', async (store) => {
      const key = randomKey()
      const backing = bytes('xxxxVIEWyyyy')
      await store.set(key, backing.subarray(4, 8))
      assertSameBytes(await store.get(key), bytes('VIEW'))
    })

    test('a Buffer value round-trips', async (store) => {
      const key = randomKey()
      await store.set(key, Buffer.from('from a buffer'))
      assertSameBytes(await store.get(key), bytes('from a buffer'))
    })

    test(
      'changing the written array afterwards does not change the stored value',
      async (store) => {
        const key = randomKey()
        const value = bytes('original')
        await store.set(key, value)
        value.fill(0x21)
        assertSameBytes(await store.get(key), bytes('original'))
      },
      { skip: raw ? BYTES_ONLY : undefined },
    )

    test(
      'changing a returned array does not change the stored value',
      async (store) => {
        const key = randomKey()
        await store.set(key, bytes('original'))
        const first = (await store.get(key)) as Uint8Array
        first.fill(0x21)
        assertSameBytes(await store.get(key), bytes('original'))
      },
      { skip: raw ? BYTES_ONLY : undefined },
    )

    test(
      'raw: an object comes back with the same content',
      async (store) => {
        const key = randomKey()
        const value = { id: 1, tags: ['a', 'b'], nested: { ok: true } }
        await store.set(key, value)
        assert.deepEqual(await store.get(key), { id: 1, tags: ['a', 'b'], nested: { ok: true } })
      },
      { skip: raw ? undefined : RAW_ONLY },
    )

    test(
      'raw: null, false, 0 and "" are hits at store level',
      async (store) => {
        for (const value of [null, false, 0, '']) {
          const key = randomKey()
          await store.set(key, value)
          assert.equal(await store.get(key), value, `${JSON.stringify(value)} should be a hit`)
          assert.equal(await store.has(key), true)
        }
      },
      { skip: raw ? undefined : RAW_ONLY },
    )
  },
}
