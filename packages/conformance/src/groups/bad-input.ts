import assert from 'node:assert/strict'
import type { CellarErrorCode, Store } from '@cellar/core'
import { assertRejectsWithCode, assertSameBytes, bytes, randomKey } from '../helpers.js'
import { preview } from '../preview.js'
import { assertAccepted, assertRejectsAsync } from '../rejects.js'
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

type BadCall = readonly [string, (store: Store<unknown>) => unknown, CellarErrorCode]

/** One bad call per method and per kind of bad argument, with the code it must reject with. */
function badCalls(raw: boolean): BadCall[] {
  const v = bytes('v')
  const calls: BadCall[] = [
    ['get("")', (s) => s.get(''), 'E_INVALID_KEY'],
    ['getMany([""])', (s) => s.getMany(['']), 'E_INVALID_KEY'],
    ['getMany("k") (not an array)', (s) => s.getMany('k' as never), 'E_INVALID_ARGUMENT'],
    ['set("")', (s) => s.set('', v), 'E_INVALID_KEY'],
    ['set(k, v, NaN)', (s) => s.set('k', v, Number.NaN), 'E_INVALID_ARGUMENT'],
    ['setMany([["", v]])', (s) => s.setMany([['', v]]), 'E_INVALID_KEY'],
    ['setMany(entries, "soon")', (s) => s.setMany([['k', v]], 'soon'), 'E_INVALID_ARGUMENT'],
    ['add("")', (s) => s.add('', v), 'E_INVALID_KEY'],
    ['add(k, v, NaN)', (s) => s.add('k', v, Number.NaN), 'E_INVALID_ARGUMENT'],
    ['has("")', (s) => s.has(''), 'E_INVALID_KEY'],
    ['delete("")', (s) => s.delete(''), 'E_INVALID_KEY'],
    ['deleteMany([""])', (s) => s.deleteMany(['']), 'E_INVALID_KEY'],
    ['increment("")', (s) => s.increment(''), 'E_INVALID_KEY'],
    ['increment(k, 1.5)', (s) => s.increment('k', 1.5), 'E_INVALID_ARGUMENT'],
    [
      'increment(k, 1, { ttl: NaN })',
      (s) => s.increment('k', 1, { ttl: Number.NaN }),
      'E_INVALID_ARGUMENT',
    ],
    ['touch("")', (s) => s.touch('', 1000), 'E_INVALID_KEY'],
    ['touch(k, NaN)', (s) => s.touch('k', Number.NaN), 'E_INVALID_ARGUMENT'],
    ['ttl("")', (s) => s.ttl(''), 'E_INVALID_KEY'],
  ]
  if (!raw) {
    calls.push(
      ['set(k, "text")', (s) => s.set('k', 'text'), 'E_INVALID_ARGUMENT'],
      ['add(k, null)', (s) => s.add('k', null), 'E_INVALID_ARGUMENT'],
    )
  }
  return calls
}

/**
 * A bad namespace or lock name: `make()` (a synchronous method) throws E_INVALID_KEY, or the
 * handle it returns refuses its first call with E_INVALID_KEY.
 */
async function refusedName<T>(
  make: () => T,
  use: (handle: T) => Promise<unknown>,
  label: string,
): Promise<void> {
  let handle: T
  try {
    handle = make()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code !== 'E_INVALID_KEY') {
      assert.fail(`${label}: expected E_INVALID_KEY, got ${preview(error)}`)
    }
    return
  }
  await assertRejectsWithCode(() => use(handle), 'E_INVALID_KEY', `${label} was accepted, then`)
}

const MIB = 1024 * 1024

/** Bad keys and values are refused with typed errors, and nothing is written half-way. */
export const badInputGroup: GroupDefinition = {
  title: 'bad input',
  define({ test, settings }) {
    const { raw, retainsValues, maxKeyLength, maxValueSize, readsTtl, ttlPrecision } =
      settings.capabilities
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

    test('every method rejects bad input as a promise, never a synchronous throw', async (store) => {
      for (const [label, call, code] of badCalls(raw)) {
        await assertRejectsAsync(() => call(store), code, label)
      }
    })

    test('namespace("") and lock("") are refused with E_INVALID_KEY', async (store) => {
      await refusedName(
        () => store.namespace(''),
        (ns) => ns.get('k'),
        'namespace("")',
      )
      if (typeof store.lock === 'function') {
        const lock = store.lock.bind(store)
        await refusedName(
          () => lock(''),
          (handle) => handle.acquire(),
          'lock("")',
        )
      }
    })

    test('fractional TTLs (1500.5 ms) are accepted by set, setMany, add, touch and increment', async (store) => {
      const ttl = 1500.5
      const [set, many, added, touched, counter] = [1, 2, 3, 4, 5].map(() => randomKey()) as [
        string,
        string,
        string,
        string,
        string,
      ]
      await assertAccepted(() => store.set(set, bytes('v'), ttl), 'set with ttl 1500.5')
      await assertAccepted(
        () => store.setMany([[many, bytes('v')]], ttl),
        'setMany with ttl 1500.5',
      )
      const add = await assertAccepted(
        () => store.add(added, bytes('v'), ttl),
        'add with ttl 1500.5',
      )
      assert.equal(add, retainsValues, 'add with ttl 1500.5 should resolve true (it wrote)')
      await store.set(touched, bytes('v'))
      const touch = await assertAccepted(() => store.touch(touched, ttl), 'touch with ttl 1500.5')
      assert.equal(touch, retainsValues, 'touch with ttl 1500.5 should resolve true (it was live)')
      const count = await assertAccepted(
        () => store.increment(counter, 1, { ttl }),
        'increment with { ttl: 1500.5 }',
      )
      assert.equal(count, 1, 'increment with { ttl: 1500.5 } should resolve 1')
      if (!retainsValues) return
      const keys = [set, many, added, touched, counter]
      for (const key of keys) assert.equal(await store.has(key), true, `"${key}" should be present`)
      if (!readsTtl) return
      // Rounded up at the store's edge, never to 0: at most one precision step above 1500.5.
      const bound = Math.ceil(ttl / ttlPrecision) * ttlPrecision
      for (const key of keys) {
        const left = await store.ttl(key)
        assert.ok(
          typeof left === 'number' && Number.isInteger(left) && left > 0 && left <= bound,
          `ttl("${key}") should be a whole number of ms in (0, ${bound}], got ${String(left)}`,
        )
      }
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
          assert.equal(await store.has(other), false, 'the key should be absent')
        },
        { skip: raw ? 'raw store: any value but undefined is accepted' : undefined },
      )
    }

    test(
      'raw: an undefined value is refused with E_INVALID_ARGUMENT (it would read as a miss)',
      async (store) => {
        const key = randomKey()
        await assertRejectsWithCode(() => store.set(key, undefined), 'E_INVALID_ARGUMENT')
        assert.equal(await store.has(key), false, 'the key should be absent')
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
        assert.deepEqual(
          await store.getMany([a, b]),
          [undefined, undefined],
          'every key should be a miss',
        )
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
