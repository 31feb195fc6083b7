import assert from 'node:assert/strict'
import { type CacheEvent, CacheGateway, type Store } from '@cellar/core'
import {
  assertMiss,
  assertRejectsWithCode,
  assertSameBytes,
  bytes,
  randomKey,
  sleep,
} from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { assertCounter, needsRetention } from './shared.js'

type KeyCall = [string, (store: Store<unknown>, key: string) => Promise<unknown>]

/** Every method that takes a key. */
const keyCalls: KeyCall[] = [
  ['get', (store, key) => store.get(key)],
  ['getMany', (store, key) => store.getMany(['ok', key])],
  ['set', (store, key) => store.set(key, bytes('v'))],
  [
    'setMany',
    (store, key) =>
      store.setMany([
        ['ok', bytes('v')],
        [key, bytes('v')],
      ]),
  ],
  ['add', (store, key) => store.add(key, bytes('v'))],
  ['has', (store, key) => store.has(key)],
  ['delete', (store, key) => store.delete(key)],
  ['deleteMany', (store, key) => store.deleteMany(['ok', key])],
  ['increment', (store, key) => store.increment(key, 1, { ttl: 60_000 })],
  ['touch', (store, key) => store.touch(key, 60_000)],
  ['ttl', (store, key) => store.ttl(key)],
]

const LONE_SURROGATES: Array<[string, string]> = [
  ["'\\uD800'", '\uD800'],
  ["'\\uDBFF'", '\uDBFF'],
  ["'user:' + '🔑'.slice(0, 1)", `user:${'🔑'.slice(0, 1)}`],
  ["'user:' + '🔒'.slice(1)", `user:${'🔒'.slice(1)}`],
]

/** Counter bytes that are not canonical decimal (Redis's own rule). */
const NON_CANONICAL = ['007', '+5', ' 5', '5 ', '-0', '0x10', '1e3']

/**
 * Rules every store must agree on, each found broken on at least one store by a black-box run:
 * zero durations as strings, lone surrogates, deleting expired entries, the safe-integer range,
 * canonical counters and `-0` through the gateway.
 */
export const contractRulesGroup: GroupDefinition = {
  title: 'contract rules',
  define({ test, settings }) {
    const { ttl, afterExpiry } = settings.timing
    const { raw, locks } = settings.capabilities
    const keeps = needsRetention(settings)

    for (const zero of ['0s', '0ms', '0m']) {
      test(
        `ttl '${zero}' removes the key on set and setMany, and add writes nothing`,
        async (store) => {
          const [a, b, c] = [randomKey(), randomKey(), randomKey()]
          await store.set(a, bytes('v'))
          await store.set(b, bytes('v'))
          await store.set(a, bytes('new'), zero)
          await store.setMany([[b, bytes('new')]], zero)
          assert.equal(await store.add(c, bytes('v'), zero), false, 'add')
          assert.deepEqual(await store.getMany([a, b, c]), [undefined, undefined, undefined])
        },
        { skip: keeps },
      )
    }

    for (const [label, key] of LONE_SURROGATES) {
      test(`a key with a lone surrogate (${label}) is refused with E_INVALID_KEY, nothing written`, async (store) => {
        for (const [method, call] of keyCalls) {
          await assertRejectsWithCode(() => call(store, key), 'E_INVALID_KEY', method)
        }
        const child = store.namespace('child')
        await assertRejectsWithCode(() => child.set(key, bytes('v')), 'E_INVALID_KEY', 'namespace')
        // A UTF-8 backend would have written the U+FFFD form of the key.
        const replaced = key.replace(/[\uD800-\uDFFF]/g, '\uFFFD')
        assert.equal(await store.has(replaced), false, `"${replaced}" must not exist`)
        assert.equal(await store.has('ok'), false, 'a batch with a bad key writes nothing')
      })
    }

    test('a namespace or lock name with a lone surrogate is refused with E_INVALID_KEY', async (store, kit) => {
      await assertRejectsWithCode(() => store.namespace('\uD800'), 'E_INVALID_KEY', 'namespace')
      await assertRejectsWithCode(
        () => store.namespace('ok').namespace(`a${'🔑'.slice(0, 1)}`),
        'E_INVALID_KEY',
        'nested namespace',
      )
      if (locks) {
        await assertRejectsWithCode(() => kit.lock(store, '\uDBFF'), 'E_INVALID_KEY', 'lock')
      }
    })

    test(
      'delete and deleteMany of an expired entry resolve false and do not count it',
      async (store) => {
        const [expired, alsoExpired, live] = [randomKey(), randomKey(), randomKey()]
        await store.set(expired, bytes('v'), ttl)
        await store.set(alsoExpired, bytes('v'), ttl)
        await store.set(live, bytes('v'))
        await sleep(afterExpiry)
        assert.equal(await store.delete(expired), false, 'delete of an expired entry')
        assert.equal(await store.deleteMany([alsoExpired, live]), 1, 'deleteMany')
        assert.equal(await store.has(live), false)
      },
      { skip: keeps },
    )

    const edges: Array<[string, number, number]> = [
      ['above Number.MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, 1],
      ['below Number.MIN_SAFE_INTEGER', Number.MIN_SAFE_INTEGER, -1],
    ]
    for (const [label, edge, step] of edges) {
      test(
        `an increment ${label} is refused with E_NOT_A_NUMBER and changes nothing`,
        async (store) => {
          const key = randomKey()
          assert.equal(await store.increment(key, edge), edge)
          await assertRejectsWithCode(() => store.increment(key, step), 'E_NOT_A_NUMBER')
          await assertRejectsWithCode(() => store.increment(key, step), 'E_NOT_A_NUMBER', 'again')
          await assertCounter(store, key, edge)
          assert.equal(await store.increment(key, -step), edge - step, 'still a counter')
        },
        { skip: keeps },
      )
    }

    for (const text of NON_CANONICAL) {
      test(
        `increment on the non-canonical counter ${JSON.stringify(text)} throws E_NOT_A_NUMBER, bytes unchanged`,
        async (store) => {
          const key = randomKey()
          await store.set(key, bytes(text))
          await assertRejectsWithCode(() => store.increment(key), 'E_NOT_A_NUMBER')
          assertSameBytes(await store.get(key), bytes(text))
        },
        { skip: keeps },
      )
    }

    test(
      'the gateway reads non-canonical counter bytes as a miss plus an error event',
      async (store) => {
        const events: CacheEvent[] = []
        const gateway = new CacheGateway(store, { onEvent: (event) => events.push(event) })
        for (const text of NON_CANONICAL) {
          const key = randomKey()
          await store.set(key, bytes(text))
          assertMiss(await gateway.getValue(key), JSON.stringify(text))
          const error = events.find((event) => event.type === 'error' && event.key === key)
          assert.ok(error !== undefined, `no error event for ${JSON.stringify(text)}`)
        }
      },
      {
        skip: keeps ?? (raw ? 'raw store: the gateway hands back whatever is stored' : undefined),
      },
    )

    test(
      '-0 round-trips through the gateway as -0',
      async (store) => {
        const gateway = new CacheGateway(store)
        const [key, other] = [randomKey(), randomKey()]
        await gateway.setValue(key, -0)
        await gateway.multiSetValues([[other, -0]])
        assert.ok(Object.is(await gateway.getValue(key), -0), 'getValue')
        assert.ok(Object.is((await gateway.multiGetValues([other]))[0], -0), 'multiGetValues')
      },
      { skip: keeps },
    )
  },
}
