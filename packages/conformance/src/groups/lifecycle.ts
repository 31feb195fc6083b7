import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { assertRejectsWithCode, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition } from '../types.js'

type Call = [string, (store: Store<unknown>) => Promise<unknown>]

const calls: Call[] = [
  ['get', (store) => store.get('k')],
  ['getMany', (store) => store.getMany(['k'])],
  ['set', (store) => store.set('k', bytes('v'))],
  ['setMany', (store) => store.setMany([['k', bytes('v')]])],
  ['add', (store) => store.add('k', bytes('v'))],
  ['has', (store) => store.has('k')],
  ['delete', (store) => store.delete('k')],
  ['deleteMany', (store) => store.deleteMany(['k'])],
  ['increment', (store) => store.increment('k')],
  ['touch', (store) => store.touch('k', 1000)],
  ['ttl', (store) => store.ttl('k')],
  ['clear', (store) => store.clear()],
]

const BOOLEAN_CAPABILITIES = [
  'atomicCounters',
  'atomicAdd',
  'locks',
  'sharedAcrossProcesses',
  'persistent',
  'retainsValues',
  'raw',
  'readsTtl',
  'listsKeys',
  'evicts',
] as const

/** Declared identity, close() and what a closed store does. */
export const lifecycleGroup: GroupDefinition = {
  title: 'lifecycle',
  define({ test }) {
    test('declares a name and every capability with the right type', async (store) => {
      assert.equal(typeof store.name, 'string')
      assert.ok(store.name.length > 0, 'name must not be empty')
      const caps = store.capabilities
      for (const key of BOOLEAN_CAPABILITIES) {
        assert.equal(typeof caps[key], 'boolean', `capabilities.${key} must be a boolean`)
      }
      for (const key of ['maxKeyLength', 'maxValueSize', 'ttlPrecision'] as const) {
        assert.ok(caps[key] > 0, `capabilities.${key} must be a positive number`)
      }
      assert.equal(caps.locks, typeof store.lock === 'function', 'locks ⇔ lock() exists')
      assert.equal(caps.listsKeys, typeof store.keys === 'function', 'listsKeys ⇔ keys() exists')
    })

    test('a namespace declares the same capabilities', async (store) => {
      assert.deepEqual({ ...store.namespace('ns').capabilities }, { ...store.capabilities })
    })

    for (const [method, call] of calls) {
      test(`${method} on a closed store rejects with E_STORE_CLOSED`, async (store) => {
        await store.close()
        await assertRejectsWithCode(() => call(store), 'E_STORE_CLOSED')
      })
    }

    test('close is idempotent', async (store) => {
      await store.close()
      await store.close()
      await assertRejectsWithCode(() => store.get('k'), 'E_STORE_CLOSED')
    })

    test('Symbol.asyncDispose closes the store', async (store) => {
      const disposable = store as Store<unknown> & Partial<AsyncDisposable>
      assert.equal(typeof disposable[Symbol.asyncDispose], 'function')
      await disposable[Symbol.asyncDispose]?.()
      await assertRejectsWithCode(() => store.get('k'), 'E_STORE_CLOSED')
    })

    test('closing a namespace leaves the parent usable', async (store) => {
      const child = store.namespace('child')
      await child.close()
      await assertRejectsWithCode(() => child.get('k'), 'E_STORE_CLOSED')
      const key = randomKey()
      await store.set(key, bytes('v'))
      assert.equal(await store.has(key), store.capabilities.retainsValues)
    })
  },
}
