import assert from 'node:assert/strict'
import { assertRejectsWithCode, assertSameBytes, bytes, randomKey } from '../helpers.js'
import { assertAccepted } from '../rejects.js'
import type { GroupDefinition, SuiteSettings } from '../types.js'

/** Skip reason for lock groups on stores without locks. */
export function needsLocks(settings: SuiteSettings): string | undefined {
  return settings.capabilities.locks ? undefined : 'the store declares no locks (locks: false)'
}

function isToken(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

/** Ownership, exclusivity, fencing tokens, restore, run, dispose — no waiting on expiry. */
export const lockBasicGroup: GroupDefinition = {
  title: 'locks',
  skipReason: needsLocks,
  define({ test, settings }) {
    test('acquire resolves a fencing token: an integer >= 1', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      const token = await lock.acquire()
      assert.ok(isToken(token), `expected a fencing token, got ${String(token)}`)
      assert.equal(lock.fencingToken, token)
    })

    test('acquire of a held lock resolves false', async (store, kit) => {
      const name = randomKey('lock')
      assert.ok(
        isToken(await kit.lock(store, name).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
      assert.equal(
        await kit.lock(store, name).acquire(),
        false,
        'acquiring a held lock should resolve false',
      )
    })

    test('acquire by the holder itself resolves false (not re-entrant)', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      await lock.acquire()
      assert.equal(await lock.acquire(), false, 'acquiring a held lock should resolve false')
      assert.equal(await lock.isOwned(), true, 'lock should own the lock')
    })

    test('exactly one of 20 concurrent acquirers wins', async (store, kit) => {
      const name = randomKey('lock')
      const locks = Array.from({ length: 20 }, () => kit.lock(store, name))
      const results = await Promise.all(locks.map((lock) => lock.acquire()))
      const winners = results.filter((result) => result !== false)
      assert.equal(winners.length, 1, `winners: ${results.join(',')}`)
      assert.ok(isToken(winners[0]))
    })

    test('different lock names are independent', async (store, kit) => {
      assert.ok(
        isToken(await kit.lock(store, randomKey('lock')).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
      assert.ok(
        isToken(await kit.lock(store, randomKey('lock')).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
    })

    test('release frees the lock for another owner', async (store, kit) => {
      const name = randomKey('lock')
      const first = kit.lock(store, name)
      await first.acquire()
      await first.release()
      assert.equal(await first.isLocked(), false, 'the lock should be free')
      assert.ok(
        isToken(await kit.lock(store, name).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
    })

    test("another owner's release throws E_LOCK_NOT_OWNED and the lock stays", async (store, kit) => {
      const name = randomKey('lock')
      const holder = kit.lock(store, name)
      await holder.acquire()
      await assertRejectsWithCode(() => kit.lock(store, name).release(), 'E_LOCK_NOT_OWNED')
      assert.equal(await holder.isOwned(), true, 'holder should own the lock')
    })

    test('release of a free lock, or a second release, throws E_LOCK_NOT_OWNED', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      await assertRejectsWithCode(() => lock.release(), 'E_LOCK_NOT_OWNED', 'never acquired')
      await lock.acquire()
      await lock.release()
      await assertRejectsWithCode(() => lock.release(), 'E_LOCK_NOT_OWNED', 'second release')
    })

    test('extend by another owner throws E_LOCK_NOT_OWNED', async (store, kit) => {
      const name = randomKey('lock')
      const holder = kit.lock(store, name)
      await holder.acquire()
      await assertRejectsWithCode(() => kit.lock(store, name).extend(), 'E_LOCK_NOT_OWNED')
      assert.equal(await holder.isOwned(), true, 'holder should own the lock')
    })

    test('extend of a lock never acquired throws E_LOCK_NOT_OWNED', async (store, kit) => {
      await assertRejectsWithCode(
        () => kit.lock(store, randomKey('lock')).extend(),
        'E_LOCK_NOT_OWNED',
      )
    })

    test('extend() without a ttl on a ttl-null lock throws E_INVALID_ARGUMENT', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'), { ttl: null })
      await lock.acquire()
      await assertRejectsWithCode(() => lock.extend(), 'E_INVALID_ARGUMENT')
      assert.equal(await lock.isOwned(), true, 'lock should own the lock')
      assert.equal(await lock.remainingTime(), null, 'nothing changed')
      await lock.extend(60_000)
      const left = await lock.remainingTime()
      assert.ok(typeof left === 'number' && left > 0 && left <= 60_000, `remaining ${left}`)
    })

    test('a lock restored from its owner token can release it', async (store, kit) => {
      const name = randomKey('lock')
      const original = kit.lock(store, name)
      await original.acquire()
      const restored = kit.lock(store, name, { owner: original.owner })
      assert.equal(await restored.isOwned(), true, 'restored should own the lock')
      await restored.release()
      assert.equal(await original.isLocked(), false, 'the lock should be free')
    })

    test('a lock restored from its owner token can extend it', async (store, kit) => {
      const name = randomKey('lock')
      const original = kit.lock(store, name, { ttl: 60_000 })
      await original.acquire()
      const restored = kit.lock(store, name, { owner: original.owner })
      await restored.extend(null)
      assert.equal(
        await original.remainingTime(),
        null,
        'remainingTime should be null (the lock never expires)',
      )
    })

    test('fencing tokens strictly increase across acquires and owners', async (store, kit) => {
      const name = randomKey('lock')
      const tokens: number[] = []
      for (let round = 0; round < 3; round++) {
        for (const lock of [kit.lock(store, name), kit.lock(store, name)]) {
          const token = await lock.acquire()
          assert.ok(isToken(token))
          tokens.push(token as number)
          await lock.release()
        }
      }
      for (let i = 1; i < tokens.length; i++) {
        assert.ok(tokens[i]! > tokens[i - 1]!, `tokens must increase: ${tokens.join(', ')}`)
      }
    })

    test('fencing tokens keep increasing after forceRelease', async (store, kit) => {
      const name = randomKey('lock')
      const first = (await kit.lock(store, name).acquire()) as number
      await kit.lock(store, name).forceRelease()
      const second = await kit.lock(store, name).acquire()
      assert.ok(isToken(second) && (second as number) > first, `${second} must exceed ${first}`)
    })

    test("run returns fn's result, passes the fencing token and releases", async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      let seen: unknown
      const result = await lock.run(async (token) => {
        seen = token
        assert.equal(await lock.isOwned(), true, 'lock should own the lock')
        return 'done'
      })
      assert.equal(result, 'done')
      assert.ok(isToken(seen))
      assert.equal(await lock.isLocked(), false, 'the lock should be free')
    })

    test("run releases when fn throws, and rethrows fn's error", async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      const failure = new Error('job failed')
      await assert.rejects(
        lock.run(() => {
          throw failure
        }),
        (error) => error === failure,
      )
      assert.equal(await lock.isLocked(), false, 'the lock should be free')
    })

    test('forceRelease frees a lock held by another owner', async (store, kit) => {
      const name = randomKey('lock')
      const holder = kit.lock(store, name)
      await holder.acquire()
      await kit.lock(store, name).forceRelease()
      assert.equal(await holder.isLocked(), false, 'the lock should be free')
      assert.ok(
        isToken(await kit.lock(store, name).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
    })

    test('forceRelease of a free lock resolves', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'))
      await lock.forceRelease()
      assert.equal(await lock.isLocked(), false, 'the lock should be free')
    })

    test('isLocked and isOwned reflect who holds the lock', async (store, kit) => {
      const name = randomKey('lock')
      const [holder, other] = [kit.lock(store, name), kit.lock(store, name)]
      assert.equal(await holder.isLocked(), false, 'the lock should be free')
      assert.equal(await holder.isOwned(), false, 'holder should not own the lock')
      await holder.acquire()
      assert.equal(await other.isLocked(), true, 'the lock should be held')
      assert.equal(await holder.isOwned(), true, 'holder should own the lock')
      assert.equal(await other.isOwned(), false, 'other should not own the lock')
    })

    test('remainingTime is undefined when free and null for a ttl-null lock', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'), { ttl: null })
      assert.equal(
        await lock.remainingTime(),
        undefined,
        'remainingTime should be undefined (the lock is free)',
      )
      await lock.acquire()
      assert.equal(
        await lock.remainingTime(),
        null,
        'remainingTime should be null (the lock never expires)',
      )
    })

    test('remainingTime is a number in (0, ttl] while held', async (store, kit) => {
      const lock = kit.lock(store, randomKey('lock'), { ttl: 60_000 })
      await lock.acquire()
      const left = await lock.remainingTime()
      assert.equal(typeof left, 'number')
      assert.ok((left as number) > 0 && (left as number) <= 60_000, `remaining ${left}`)
    })

    test('await using releases the lock at the end of the block', async (store, kit) => {
      const name = randomKey('lock')
      {
        await using lock = kit.lock(store, name)
        assert.ok(
          isToken(await lock.acquire()),
          'acquire should resolve a fencing token (an integer >= 1)',
        )
        assert.equal(await lock.isOwned(), true, 'lock should own the lock')
      }
      assert.equal(await kit.lock(store, name).isLocked(), false, 'the lock should be free')
    })

    test('clear() never releases a lock, nor resets its fencing token', async (store, kit) => {
      const name = randomKey('lock')
      const child = store.namespace('child')
      const holder = kit.lock(store, name)
      const childHolder = kit.lock(child, name)
      const first = (await holder.acquire()) as number
      assert.ok(isToken(first), 'the lock should be acquired')
      assert.ok(isToken(await childHolder.acquire()), 'the namespaced lock should be acquired')
      await store.set(name, bytes('cached'))
      await child.clear()
      await store.clear()
      for (const [who, lock, owner] of [
        ['the store', holder, store],
        ['the namespace', childHolder, child],
      ] as const) {
        assert.equal(await lock.isOwned(), true, `${who}'s lock should still be held after clear()`)
        assert.equal(
          await kit.lock(owner, name).acquire(),
          false,
          `a second owner should still be refused ${who}'s lock after clear()`,
        )
      }
      await holder.release()
      const next = await kit.lock(store, name).acquire()
      assert.ok(
        isToken(next) && (next as number) > first,
        `the fencing token after clear() should exceed ${first}, got ${String(next)}`,
      )
    })

    test('a fractional lock TTL (1500.5 ms) is accepted by acquire and extend', async (store, kit) => {
      const lock = await assertAccepted(
        () => kit.lock(store, randomKey('lock'), { ttl: 1500.5 }),
        'lock(name, { ttl: 1500.5 })',
      )
      const token = await assertAccepted(() => lock.acquire(), 'acquire with ttl 1500.5')
      assert.ok(isToken(token), `acquire with ttl 1500.5 should resolve a token, got ${token}`)
      await assertAccepted(() => lock.extend(2500.5), 'extend(2500.5)')
      const left = await lock.remainingTime()
      // Rounded up at the store's edge: at most one precision step above 2500.5.
      const step = Math.max(1, settings.capabilities.ttlPrecision)
      const bound = Math.ceil(2500.5 / step) * step
      assert.ok(
        typeof left === 'number' && left > 0 && left <= bound,
        `remainingTime after extend(2500.5) should be in (0, ${bound}], got ${String(left)}`,
      )
    })

    test('locks of the same name in sibling namespaces are independent', async (store, kit) => {
      const name = randomKey('lock')
      assert.ok(
        isToken(await kit.lock(store.namespace('a'), name).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
      assert.ok(
        isToken(await kit.lock(store.namespace('b'), name).acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
    })

    test('a lock leaves the cache entry of the same name alone', async (store, kit) => {
      const name = randomKey('lock')
      const empty = randomKey('lock')
      await store.set(name, bytes('cached'))
      const lock = kit.lock(store, name)
      assert.ok(
        isToken(await lock.acquire()),
        'acquire should resolve a fencing token (an integer >= 1)',
      )
      await kit.lock(store, empty).acquire()
      await lock.release()
      if (store.capabilities.retainsValues) assertSameBytes(await store.get(name), bytes('cached'))
      assert.equal(await store.has(empty), false, 'the key should be absent')
    })
  },
}
