import { randomUUID } from 'node:crypto'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { TieredStore } from '../src/index.js'

const redis = await useRedis()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

// One instance whose L2 reads can be held after Redis answered them: a read that fetched the
// old value is kept in flight while a write of the same instance lands.
function held(shared: boolean) {
  const client = shared ? new Redis(redis!.url) : undefined
  const l2 = new RedisStore({ connection: client ?? redis!.url, prefix: `ovl-${randomUUID()}:` })
  const bus = new RedisBus({ connection: client ?? redis!.url })
  let gate: Promise<void> | undefined
  let fetched: () => void = () => {}
  const slow = new Proxy(l2, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      if (property !== 'get') return value.bind(target)
      return async (key: string) => {
        const found = await target.get(key)
        fetched()
        await gate
        return found
      }
    },
  })
  const l1 = new MemoryStore({ pruneInterval: false })
  const store = new TieredStore({ l1, l2: slow, bus, channel: `ovl-${randomUUID()}` })
  return {
    store,
    l1,
    ordered: bus.orderedWith(l2),
    /** Holds the next L2 reads; resolves once one has its answer, with the function that lets them go. */
    hold(): { answered: Promise<void>; release: () => void } {
      let release!: () => void
      gate = new Promise((resolve) => {
        release = resolve
      })
      const answered = new Promise<void>((resolve) => {
        fetched = resolve
      })
      return { answered, release }
    },
    close: async () => {
      await store.close()
      await bus.close()
      await client?.quit()
    },
  }
}

for (const shared of [false, true]) {
  describe.skipIf(!redis)(
    `TieredStore: a read overlapping a write of the same instance (${shared ? 'L2 and bus on one client' : 'separate connections'})`,
    () => {
      let instance: ReturnType<typeof held> | undefined
      afterEach(async () => {
        await instance?.close()
        instance = undefined
      })

      test('the bus sends the message behind the write only on one client', () => {
        instance = held(shared)
        expect(instance.ordered).toBe(shared)
      })

      test('a read that fetched the old value before a set does not put it back into L1', async () => {
        instance = held(shared)
        const { store, l1 } = instance
        await store.ready()
        await store.set('k', bytes('old'), '1m')
        await l1.delete('k')
        const { answered, release } = instance.hold()
        const reading = store.get('k')
        await answered
        await store.set('k', bytes('new'), '1m')
        release()
        // The read began before the write: returning the old value is right; keeping it is not.
        expect(text(await reading)).toBe('old')
        expect(text(l1.getSync('k'))).toBe('new')
        expect(text(await store.get('k'))).toBe('new')
      })

      test('a read that fetched the value before a delete does not put it back into L1', async () => {
        instance = held(shared)
        const { store, l1 } = instance
        await store.ready()
        await store.set('k', bytes('old'), '1m')
        await l1.delete('k')
        const { answered, release } = instance.hold()
        const reading = store.get('k')
        await answered
        expect(await store.delete('k')).toBe(true)
        release()
        expect(text(await reading)).toBe('old')
        expect(l1.getSync('k')).toBeUndefined()
        expect(await store.get('k')).toBeUndefined()
      })
    },
  )
}
