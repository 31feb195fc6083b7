import assert from 'node:assert/strict'
import type { Store } from '@cellar/core'
import { assertMiss, assertSameBytes, bytes, randomKey } from '../helpers.js'
import type { AnyStore, GroupDefinition, StoreFactory } from '../types.js'
import { assertCounter, needsRetention, ttlUnreadable } from './shared.js'

/** Builds a store whose expiry reads time (in ms) from `now` instead of the real clock. */
export type ClockedStoreFactory<S extends AnyStore = AnyStore> = (
  now: () => number,
) => S | Promise<S>

/** A clock the test moves by hand. */
class TestClock {
  #ms: number

  constructor(start: number) {
    this.#ms = start
  }

  readonly now = (): number => this.#ms

  advance(ms: number): void {
    this.#ms += ms
  }
}

const clocks = new WeakMap<object, TestClock>()

/** A store factory that gives each store its own clock, starting at `start`. */
export function clockedFactory<S extends AnyStore>(
  build: ClockedStoreFactory<S>,
  start: () => number,
): StoreFactory<S> {
  return async () => {
    const clock = new TestClock(start())
    const store = await build(clock.now)
    clocks.set(store, clock)
    return store
  }
}

function clockOf(store: Store<unknown>): TestClock {
  const clock = clocks.get(store)
  if (clock === undefined) assert.fail('this store was not built by a clocked factory')
  return clock
}

const D = 10_000

/**
 * The expiry boundary, with a clock the test moves: an entry written at `t` with TTL `d` is
 * alive while `now <= t + d` and gone once `now > t + d`, for every read and write path.
 */
export const expiryBoundaryGroup: GroupDefinition = {
  title: 'expiry boundary (injected clock)',
  skipReason: needsRetention,
  define({ test, settings }) {
    const unreadable = ttlUnreadable(settings)

    test('an entry is alive at exactly t + ttl and gone 1 ms later', async (store) => {
      const clock = clockOf(store)
      const key = randomKey()
      await store.set(key, bytes('v'), D)
      clock.advance(D)
      assertSameBytes(await store.get(key), bytes('v'), 'get at t + ttl')
      assert.equal(await store.has(key), true, 'has at t + ttl')
      assertSameBytes((await store.getMany([key]))[0], bytes('v'), 'getMany at t + ttl')
      clock.advance(1)
      assertMiss(await store.get(key), 'get 1 ms past t + ttl')
      assert.equal(await store.has(key), false, 'has 1 ms past t + ttl')
      assert.deepEqual(await store.getMany([key]), [undefined], 'getMany 1 ms past t + ttl')
    })

    test('setMany, add, increment and touch share the boundary', async (store) => {
      const clock = clockOf(store)
      const [many, added, counter, touched] = [randomKey(), randomKey(), randomKey(), randomKey()]
      await store.set(touched, bytes('t'))
      await store.setMany([[many, bytes('m')]], D)
      assert.equal(await store.add(added, bytes('a'), D), true)
      await store.increment(counter, 1, { ttl: D })
      assert.equal(await store.touch(touched, D), true)
      clock.advance(D)
      for (const key of [many, added, counter, touched]) {
        assert.equal(await store.has(key), true, `alive at t + ttl: ${key}`)
      }
      assert.equal(await store.increment(counter), 2, 'the counter is still live')
      clock.advance(1)
      for (const key of [many, added, counter, touched]) {
        assert.equal(await store.has(key), false, `gone 1 ms past t + ttl: ${key}`)
      }
      assert.equal(await store.increment(counter), 1, 'a new counter starts at 0')
    })

    test('delete, add and touch at t + ttl see a live entry, 1 ms later an expired one', async (store) => {
      const clock = clockOf(store)
      const keys = [randomKey(), randomKey(), randomKey(), randomKey(), randomKey(), randomKey()]
      const [deleted, counted, added, touched, deletedLate, addedLate] = keys as [
        string,
        string,
        string,
        string,
        string,
        string,
      ]
      for (const key of keys) await store.set(key, bytes('old'), D)
      clock.advance(D)
      assert.equal(await store.delete(deleted), true, 'delete at t + ttl')
      assert.equal(await store.deleteMany([counted]), 1, 'deleteMany at t + ttl')
      assert.equal(await store.add(added, bytes('new')), false, 'add at t + ttl')
      assert.equal(await store.touch(touched, D), true, 'touch at t + ttl')
      clock.advance(1)
      assert.equal(await store.delete(deletedLate), false, 'delete past t + ttl')
      assert.equal(await store.add(addedLate, bytes('new')), true, 'add past t + ttl')
      assertSameBytes(await store.get(addedLate), bytes('new'))
      assertSameBytes(await store.get(touched), bytes('old'), 'the touched entry lives on')
    })

    test(
      'ttl() counts down with the clock and is undefined past the boundary',
      async (store) => {
        const clock = clockOf(store)
        const key = randomKey()
        await store.set(key, bytes('v'), D)
        assert.equal(await store.ttl(key), D, 'right after the write')
        clock.advance(4000)
        assert.equal(await store.ttl(key), D - 4000, '4 s later')
        clock.advance(D - 4000)
        assert.equal(typeof (await store.ttl(key)), 'number', 'at t + ttl the entry is live')
        clock.advance(1)
        assert.equal(await store.ttl(key), undefined, 'past t + ttl')
      },
      { skip: unreadable },
    )

    test('a counter created with a ttl keeps it when incremented later', async (store) => {
      const clock = clockOf(store)
      const key = randomKey()
      await store.increment(key, 1, { ttl: D })
      clock.advance(D - 1)
      assert.equal(await store.increment(key, 1, { ttl: D }), 2)
      await assertCounter(store, key, 2)
      clock.advance(2)
      assertMiss(await store.get(key), 'the first ttl still applies')
    })
  },
}
