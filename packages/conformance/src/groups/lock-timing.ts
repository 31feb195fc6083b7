import assert from 'node:assert/strict'
import { assertRejectsWithCode, randomKey, sleep } from '../helpers.js'
import type { GroupDefinition } from '../types.js'
import { needsLocks } from './lock-basic.js'

/** Lock expiry, takeover, extend, block, and exclusion across clients. */
export const lockTimingGroup: GroupDefinition = {
  title: 'lock expiry and waiting',
  skipReason: needsLocks,
  define({ test, settings }) {
    const { ttl, afterExpiry } = settings.timing
    const { sharedAcrossProcesses } = settings.capabilities
    const notShared = !sharedAcrossProcesses
      ? 'the store is not shared across processes (sharedAcrossProcesses: false)'
      : settings.sibling === undefined
        ? 'no options.sibling (a second client) was given'
        : undefined

    test('a lock that expired while held is taken over by another owner', async (store, kit) => {
      const name = randomKey('lock')
      const first = kit.lock(store, name, { ttl })
      const firstToken = (await first.acquire()) as number
      await sleep(afterExpiry)
      const second = kit.lock(store, name, { ttl: 60_000 })
      const token = await second.acquire()
      assert.ok(typeof token === 'number' && token > firstToken, `takeover token ${token}`)
      assert.equal(await first.isOwned(), false, 'first should not own the lock')
    })

    test("after a takeover the old owner's release throws and the new lock stays", async (store, kit) => {
      const name = randomKey('lock')
      const first = kit.lock(store, name, { ttl })
      await first.acquire()
      await sleep(afterExpiry)
      const second = kit.lock(store, name, { ttl: 60_000 })
      await second.acquire()
      await assertRejectsWithCode(() => first.release(), 'E_LOCK_NOT_OWNED', 'old release')
      await assertRejectsWithCode(() => first.extend(), 'E_LOCK_NOT_OWNED', 'old extend')
      assert.equal(await second.isOwned(), true, 'second should own the lock')
    })

    test('extend after the lock expired throws E_LOCK_NOT_OWNED', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'), { ttl })
      await lock.acquire()
      await sleep(afterExpiry)
      await assertRejectsWithCode(() => lock.extend(), 'E_LOCK_NOT_OWNED')
      assert.equal(await lock.isLocked(), false, 'the lock should be free')
    })

    test('extend counts from now: extended near expiry, it outlives the original expiry', async (store, kit) => {
      const name = randomKey('lock')
      const lock = kit.lock(store, name, { ttl })
      await lock.acquire()
      await sleep(Math.round(ttl / 2))
      await lock.extend(ttl * 4)
      await sleep(afterExpiry - Math.round(ttl / 2))
      assert.equal(await lock.isOwned(), true, 'still held past the original expiry')
      assert.equal(
        await kit.lock(store, name).acquire(),
        false,
        'acquiring a held lock should resolve false',
      )
    })

    test('a ttl-null lock and an extend(null) lock never expire', async (store, kit) => {
      const forever = kit.lock(store, randomKey('lock'), { ttl: null })
      const extended = kit.lock(store, randomKey('lock'), { ttl })
      await forever.acquire()
      await extended.acquire()
      await extended.extend(null)
      await sleep(afterExpiry)
      assert.equal(await forever.isOwned(), true, 'forever should own the lock')
      assert.equal(await extended.isOwned(), true, 'extended should own the lock')
      assert.equal(
        await extended.remainingTime(),
        null,
        'remainingTime should be null (the lock never expires)',
      )
    })

    test('block gives up after its timeout with E_LOCK_TIMEOUT', async (store, kit) => {
      const name = randomKey('lock')
      await kit.lock(store, name, { ttl: 60_000 }).acquire()
      const waiter = kit.lock(store, name, { retryInterval: 20 })
      await assertRejectsWithCode(() => waiter.block(300), 'E_LOCK_TIMEOUT')
      assert.equal(await waiter.isOwned(), false, 'waiter should not own the lock')
    })

    test('block succeeds when the holder releases mid-wait', async (store, kit) => {
      const name = randomKey('lock')
      const holder = kit.lock(store, name, { ttl: 60_000 })
      const held = (await holder.acquire()) as number
      const releasing = sleep(200).then(() => holder.release())
      const token = await kit.lock(store, name, { retryInterval: 20 }).block(10_000)
      await releasing
      assert.ok(token > held, `block token ${token} must exceed ${held}`)
    })

    test("block succeeds when the holder's lock expires mid-wait", async (store, kit) => {
      const name = randomKey('lock')
      await kit.lock(store, name, { ttl }).acquire()
      const waiter = kit.lock(store, name, { retryInterval: 20 })
      assert.ok((await waiter.block(afterExpiry * 3)) >= 1)
      assert.equal(await waiter.isOwned(), true, 'waiter should own the lock')
    })

    test("zero durations as strings ('0s', '0ms') work as block timeout and retryInterval", async (store, kit) => {
      const name = randomKey('lock')
      const first = kit.lock(store, name, { retryInterval: '0s' })
      assert.ok((await first.block('0ms')) >= 1, 'a free lock is taken at once')
      await assertRejectsWithCode(() => kit.lock(store, name).block('0s'), 'E_LOCK_TIMEOUT')
      const releasing = sleep(100).then(() => first.release())
      const waiter = kit.lock(store, name, { retryInterval: '0ms' })
      assert.ok((await waiter.block(10_000)) >= 1, 'retryInterval 0 still retries')
      await releasing
    })

    test(
      'a lock held through one client is refused through another',
      async (store, kit) => {
        const other = await kit.sibling()
        const name = randomKey('lock')
        assert.ok((await kit.lock(store, name).acquire()) !== false)
        assert.equal(
          await kit.lock(other, name).acquire(),
          false,
          'acquiring a held lock should resolve false',
        )
        assert.equal(await kit.lock(other, name).isLocked(), true, 'the lock should be held')
      },
      { skip: notShared },
    )

    test(
      'a lock restored on another client can release it',
      async (store, kit) => {
        const other = await kit.sibling()
        const name = randomKey('lock')
        const original = kit.lock(store, name)
        await original.acquire()
        await kit.lock(other, name, { owner: original.owner }).release()
        assert.equal(await original.isLocked(), false, 'the lock should be free')
      },
      { skip: notShared },
    )
  },
}
