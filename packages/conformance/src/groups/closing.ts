import assert from 'node:assert/strict'
import { CacheGateway, type Lock, type Store } from '@cellar/core'
import { assertRejectsWithCode, assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { GroupDefinition, SuiteSettings } from '../types.js'

type Call = [string, (store: Store<unknown>) => unknown]

/** Every store method that answers through a promise (or an async iterable, for `keys`). */
const storeCalls: Call[] = [
  ['get', (store) => store.get('k')],
  ['getMany', (store) => store.getMany(['k'])],
  ['set', (store) => store.set('k', bytes('v'))],
  ['setMany', (store) => store.setMany([['k', bytes('v')]])],
  ['add', (store) => store.add('k', bytes('v'))],
  ['has', (store) => store.has('k')],
  ['delete', (store) => store.delete('k')],
  ['deleteMany', (store) => store.deleteMany(['k'])],
  ['increment', (store) => store.increment('k', 1, { ttl: 60_000 })],
  ['touch', (store) => store.touch('k', 60_000)],
  ['ttl', (store) => store.ttl('k')],
  ['clear', (store) => store.clear()],
  [
    'keys',
    async (store) => {
      for await (const _ of store.keys?.() ?? []) break
    },
  ],
]

// A lock held when its store closes cannot be released any more: keep it short-lived.
const HELD_MS = 5_000

type LockCall = [string, (lock: Lock) => Promise<unknown>]

const lockCalls: LockCall[] = [
  ['acquire', (lock) => lock.acquire()],
  ['block', (lock) => lock.block(1000)],
  ['run', (lock) => lock.run(() => assert.fail('run must not call fn on a closed store'), 1000)],
  ['release', (lock) => lock.release()],
  ['forceRelease', (lock) => lock.forceRelease()],
  ['extend', (lock) => lock.extend(60_000)],
  ['isLocked', (lock) => lock.isLocked()],
  ['isOwned', (lock) => lock.isOwned()],
  ['remainingTime', (lock) => lock.remainingTime()],
]

/** Asserts every method of `store` rejects with E_STORE_CLOSED, as a promise, never a throw. */
async function assertClosed(store: Store<unknown>, who: string): Promise<void> {
  for (const [method, call] of storeCalls) {
    if (method === 'keys' && store.keys === undefined) continue
    let pending: unknown
    assert.doesNotThrow(() => {
      pending = call(store)
    }, `${who}.${method}() threw synchronously instead of rejecting`)
    await assertRejectsWithCode(() => pending, 'E_STORE_CLOSED', `${who}.${method}()`)
  }
  if (store.capabilities.synchronous === true && typeof store.getSync === 'function') {
    await assertRejectsWithCode(() => store.getSync?.('k'), 'E_STORE_CLOSED', `${who}.getSync()`)
  }
  if (store.capabilities.synchronous === true && typeof store.setSync === 'function') {
    await assertRejectsWithCode(
      () => store.setSync?.('k', bytes('v')),
      'E_STORE_CLOSED',
      `${who}.setSync()`,
    )
  }
}

async function assertLockClosed(lock: Lock, who: string): Promise<void> {
  for (const [method, call] of lockCalls) {
    await assertRejectsWithCode(() => call(lock), 'E_STORE_CLOSED', `${who}.${method}()`)
  }
}

function skips(settings: SuiteSettings) {
  const { locks, sharedAcrossProcesses } = settings.capabilities
  const noLocks = locks ? undefined : 'the store declares no locks (locks: false)'
  const noWitness =
    noLocks ??
    (!sharedAcrossProcesses
      ? 'the store is not shared across processes (sharedAcrossProcesses: false)'
      : settings.sibling === undefined
        ? 'no options.sibling (a second client) was given'
        : undefined)
  return { noLocks, noWitness }
}

/**
 * What closing any store handle does: every later call of it and of its lock handles rejects
 * with E_STORE_CLOSED; closing a namespace releases nothing shared; a gateway without prefix
 * closes its store. Holds whether the factory returns a root store or a namespace.
 */
export const closingGroup: GroupDefinition = {
  title: 'closing',
  define({ test, settings }) {
    const { retainsValues } = settings.capabilities
    const { noLocks, noWitness } = skips(settings)

    test('every method of a closed store rejects with E_STORE_CLOSED, never throws', async (store) => {
      await store.close()
      await assertClosed(store, 'store')
    })

    test('a namespace made after close refuses calls with E_STORE_CLOSED', async (store) => {
      await store.close()
      await assertRejectsWithCode(() => store.namespace('late').get('k'), 'E_STORE_CLOSED')
    })

    test(
      'closing the store refuses every call of its lock handles, held or free',
      async (store, kit) => {
        const held = kit.lock(store, randomKey('lock'), { ttl: HELD_MS })
        await held.acquire()
        const free = kit.lock(store, randomKey('lock'))
        await store.close()
        await assertLockClosed(held, 'held lock')
        await assertLockClosed(free, 'free lock')
      },
      { skip: noLocks },
    )

    test(
      'acquire through a lock handle made before close writes nothing',
      async (store, kit) => {
        const other = await kit.sibling()
        const name = randomKey('lock')
        const lock = kit.lock(store, name)
        await store.close()
        await assertRejectsWithCode(() => lock.acquire(), 'E_STORE_CLOSED')
        assert.equal(await kit.lock(other, name).isLocked(), false, 'no lock row/key was written')
      },
      { skip: noWitness },
    )

    test('closing a namespace leaves the store and sibling namespaces working', async (store) => {
      const [a, b] = [store.namespace('a'), store.namespace('b')]
      await a.set('k', bytes('a'))
      await b.set('k', bytes('b'))
      await a.close()
      await assertRejectsWithCode(() => a.get('k'), 'E_STORE_CLOSED', 'the closed namespace')
      const key = randomKey()
      await store.set(key, bytes('root'))
      assert.equal(await store.has(key), retainsValues, 'the store')
      assert.equal(await b.has('k'), retainsValues, 'the sibling namespace')
      if (retainsValues) {
        assertSameBytes(await store.namespace('a').get('k'), bytes('a'), 'a new handle of "a"')
      }
    })

    test(
      'closing a namespace refuses its locks and leaves the store’s locks working',
      async (store, kit) => {
        const child = store.namespace('child')
        const name = randomKey('lock')
        const mine = kit.lock(child, name)
        await child.close()
        await assertRejectsWithCode(() => mine.acquire(), 'E_STORE_CLOSED', 'namespace lock')
        const rootLock = kit.lock(store, name)
        assert.notEqual(await rootLock.acquire(), false, 'a lock of the store')
        await rootLock.release()
      },
      { skip: noLocks },
    )

    test('closing namespaces, then the store, twice over, resolves', async (store) => {
      const child = store.namespace('child')
      await child.close()
      await child.close()
      await store.close()
      await store.close()
      await assertRejectsWithCode(() => store.get('k'), 'E_STORE_CLOSED')
    })

    test('a gateway without a prefix closes its store', async (store) => {
      const gateway = new CacheGateway(store)
      await gateway.close()
      await assertRejectsWithCode(() => store.get('k'), 'E_STORE_CLOSED', 'the store')
      await assertRejectsWithCode(() => gateway.setValue('k', 1), 'E_STORE_CLOSED', 'the gateway')
    })
  },
}

/**
 * What closing the root store does besides: every namespace made from it (nested ones too) and
 * their lock handles refuse calls, and a gateway built with `prefix` closes it. Needs the
 * factory to return the root store (leave this group out when it returns a namespace).
 */
export const closingRootGroup: GroupDefinition = {
  title: 'closing the root store',
  define({ test, settings }) {
    const { noLocks } = skips(settings)

    test('closing the store closes every namespace made from it, nested ones too', async (store) => {
      const child = store.namespace('child')
      const nested = child.namespace('nested')
      await store.close()
      await assertClosed(child, 'namespace')
      await assertClosed(nested, 'nested namespace')
    })

    test(
      'closing the store refuses every call of lock handles made from its namespaces',
      async (store, kit) => {
        const child = store.namespace('child')
        const held = kit.lock(child, randomKey('lock'), { ttl: HELD_MS })
        await held.acquire()
        const nested = kit.lock(child.namespace('nested'), randomKey('lock'))
        await store.close()
        await assertLockClosed(held, 'held namespace lock')
        await assertLockClosed(nested, 'nested namespace lock')
      },
      { skip: noLocks },
    )

    test('a gateway built with a prefix closes the store it was built on', async (store) => {
      const gateway = new CacheGateway(store, { prefix: 'app' })
      await gateway.close()
      await assertRejectsWithCode(() => store.get('k'), 'E_STORE_CLOSED', 'the store')
      await assertRejectsWithCode(() => gateway.getValue('k'), 'E_STORE_CLOSED', 'the gateway')
    })
  },
}
