import assert from 'node:assert/strict'
import type { CellarErrorCode, Store } from '@cellar/core'
import { assertRejectsWithCode, assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'

type KeyCall = [string, (store: Store<unknown>, key: string) => Promise<unknown>]

/** Every single-key method, called with `key`. */
const keyMethods: KeyCall[] = [
  ['get', (store, key) => store.get(key)],
  ['set', (store, key) => store.set(key, bytes('v'))],
  ['add', (store, key) => store.add(key, bytes('v'))],
  ['has', (store, key) => store.has(key)],
  ['delete', (store, key) => store.delete(key)],
  ['increment', (store, key) => store.increment(key)],
  ['getMany', (store, key) => store.getMany([key])],
  ['setMany', (store, key) => store.setMany([[key, bytes('v')]])],
  ['deleteMany', (store, key) => store.deleteMany([key])],
]

async function refusedByAll(store: Store<unknown>, key: unknown, code: CellarErrorCode) {
  for (const [method, call] of keyMethods) {
    await assertRejectsWithCode(() => call(store, key as string), code, `${method}(${String(key)})`)
  }
}

const MIB = 1024 * 1024

/** Bad keys and values are refused with typed errors, and nothing is written half-way. */
export const badInputGroup: GroupDefinition = {
  title: 'bad input',
  define({ test, settings }) {
    const { raw, retainsValues, maxKeyLength, maxValueSize } = settings.capabilities
    const keyLimit = Number.isFinite(maxKeyLength)
      ? undefined
      : 'maxKeyLength is Infinity (no key length limit declared)'
    const valueLimit = raw
      ? 'raw store: values are not bytes, so their size is measured the store’s own way'
      : Number.isFinite(maxValueSize)
        ? undefined
        : 'maxValueSize is Infinity (no value size limit declared)'

    test('an empty key is refused with E_INVALID_KEY by every method', async (store) => {
      await refusedByAll(store, '', 'E_INVALID_KEY')
    })

    for (const [label, key] of [
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
      ['an object', { toString: () => 'k' }],
    ] as const) {
      test(`a key that is ${label} is refused with E_INVALID_KEY by every method`, async (store) => {
        await refusedByAll(store, key, 'E_INVALID_KEY')
      })
    }

    test('bad input rejects the returned promise instead of throwing synchronously', async (store) => {
      let promise: Promise<unknown> | undefined
      assert.doesNotThrow(() => {
        promise = store.get('')
      }, 'get("") threw synchronously')
      await assertRejectsWithCode(() => promise, 'E_INVALID_KEY')
    })

    test(
      'a key over maxKeyLength is refused with E_INVALID_KEY',
      async (store) => {
        await refusedByAll(store, 'k'.repeat(maxKeyLength + 1), 'E_INVALID_KEY')
      },
      { skip: keyLimit },
    )

    test(
      'a key of exactly maxKeyLength bytes is accepted',
      async (store) => {
        const key = randomKey().padEnd(maxKeyLength, 'k').slice(-maxKeyLength)
        await store.set(key, bytes('at the limit'))
        if (retainsValues) assertSameBytes(await store.get(key), bytes('at the limit'))
        else assert.equal(await store.get(key), undefined)
      },
      { skip: keyLimit },
    )

    test(
      'maxKeyLength counts UTF-8 bytes, not characters',
      async (store) => {
        // Two-byte characters: within the limit in characters, over it in bytes.
        const key = 'é'.repeat(Math.floor(maxKeyLength / 2) + 1)
        await assertRejectsWithCode(() => store.set(key, bytes('v')), 'E_INVALID_KEY')
      },
      { skip: keyLimit ?? (maxKeyLength < 2 ? 'maxKeyLength below 2 bytes' : undefined) },
    )

    const notBytes: Array<[string, unknown]> = [
      ['a string', 'text'],
      ['a number', 7],
      ['null', null],
      ['undefined', undefined],
      ['a plain array of bytes', [1, 2, 3]],
      ['an ArrayBuffer', new ArrayBuffer(4)],
    ]
    for (const [label, value] of notBytes) {
      test(
        `a value that is ${label} is refused with E_INVALID_ARGUMENT and nothing is written`,
        async (store) => {
          const [key, other] = [randomKey(), randomKey()]
          await store.set(key, bytes('old'))
          await assertRejectsWithCode(() => store.set(key, value), 'E_INVALID_ARGUMENT', 'set')
          await assertRejectsWithCode(() => store.add(other, value), 'E_INVALID_ARGUMENT', 'add')
          if (retainsValues) assertSameBytes(await store.get(key), bytes('old'))
          assert.equal(await store.has(other), false)
        },
        { skip: raw ? 'raw store: any value but undefined is accepted' : undefined },
      )
    }

    test(
      'raw: an undefined value is refused with E_INVALID_ARGUMENT (it would read as a miss)',
      async (store) => {
        const key = randomKey()
        await assertRejectsWithCode(() => store.set(key, undefined), 'E_INVALID_ARGUMENT')
        assert.equal(await store.has(key), false)
      },
      { skip: raw ? undefined : 'byte store: covered by the Uint8Array checks above' },
    )

    test(
      'a value over maxValueSize is refused with E_VALUE_TOO_LARGE and the old value survives',
      async (store) => {
        const key = randomKey()
        await store.set(key, bytes('old'))
        const big = new Uint8Array(maxValueSize + 1)
        await assertRejectsWithCode(() => store.set(key, big), 'E_VALUE_TOO_LARGE')
        if (retainsValues) assertSameBytes(await store.get(key), bytes('old'))
      },
      { skip: valueLimit },
    )

    test(
      'add and setMany also refuse a value over maxValueSize and write nothing',
      async (store) => {
        const [a, b] = [randomKey(), randomKey()]
        const big = new Uint8Array(maxValueSize + 1)
        await assertRejectsWithCode(() => store.add(a, big), 'E_VALUE_TOO_LARGE', 'add')
        await assertRejectsWithCode(
          () =>
            store.setMany([
              [a, bytes('small')],
              [b, big],
            ]),
          'E_VALUE_TOO_LARGE',
          'setMany',
        )
        assert.deepEqual(await store.getMany([a, b]), [undefined, undefined])
      },
      { skip: valueLimit },
    )

    test(
      'a value of exactly maxValueSize bytes is accepted',
      async (store) => {
        const key = randomKey()
        const value = new Uint8Array(maxValueSize).fill(0x5a)
        await store.set(key, value)
        if (retainsValues) assertSameBytes(await store.get(key), value)
        else assert.equal(await store.get(key), undefined)
      },
      {
        skip:
          valueLimit ??
          (maxValueSize > 16 * MIB
            ? 'maxValueSize is over 16 MiB, too large to write here'
            : undefined),
      },
    )
  },
}
