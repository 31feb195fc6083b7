import type { Knex } from 'knex'
import { describe, expect, test } from 'vitest'
import { KnexStore, type KnexStoreOptions } from '../src/index.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()

let tables = 0
function own(knex: Knex, extra: Partial<KnexStoreOptions> = {}): KnexStoreOptions {
  tables++
  return {
    knex,
    tableName: `l${tables}_${process.pid}_cache`,
    lockTableName: `l${tables}_${process.pid}_locks`,
    pruneInterval: false,
    ...extra,
  }
}

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore locks on ${name}`, () => {
    if (target === undefined) return
    const knex = open(target)

    test('fencing tokens strictly increase per name across release, forceRelease and expiry', async () => {
      let now = Date.now()
      const options = own(knex, { now: () => now })
      const store = new KnexStore(options)
      const a = store.lock('job', { ttl: 1_000 })
      const b = store.lock('job', { ttl: 1_000 })
      expect(await a.acquire()).toBe(1)
      expect(await b.acquire()).toBe(false)
      await a.release()
      expect(await b.acquire()).toBe(2)
      await b.forceRelease()
      expect(await a.acquire()).toBe(3)
      now += 1_000 // held through now == expiry, like a cache entry
      expect(await b.acquire()).toBe(false)
      now += 1 // a's lock expires by the store's clock
      expect(await b.acquire()).toBe(4)
      expect(await store.lock('other').acquire()).toBe(1)
      // The row survives release: the owner is cleared and the fence stays.
      await b.release()
      const [row] = await knex(options.lockTableName as string)
        .where('name', 'job')
        .select('owner', 'expires_at', 'fence')
      expect(row).toMatchObject({ owner: null, expires_at: null })
      expect(Number(row.fence)).toBe(4)
      await store.close()
    })

    test("the application's clock decides lock expiry and remaining time", async () => {
      // The database's own clock is years ahead of this one: were it consulted, the lock
      // would be long expired.
      let now = Date.UTC(2001, 0, 1)
      const store = new KnexStore(own(knex, { now: () => now }))
      const lock = store.lock('clocked', { ttl: 10_000 })
      expect(await lock.acquire()).toBe(1)
      now += 4_000
      expect(await lock.remainingTime()).toBe(6_000)
      await lock.extend(20_000)
      now += 20_000
      expect(await lock.isOwned()).toBe(true)
      expect(await lock.remainingTime()).toBe(0)
      expect(await store.lock('clocked').acquire()).toBe(false)
      now += 1
      expect(await lock.isLocked()).toBe(false)
      await expect(lock.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
      expect(await store.lock('clocked').acquire()).toBe(2)
      await store.close()
    })

    test('a lock held without expiry reports null remaining time; owners restore across instances', async () => {
      const options = own(knex)
      const store = new KnexStore(options)
      const held = store.lock('forever', { ttl: null })
      expect(await held.acquire()).toBe(1)
      expect(await held.remainingTime()).toBeNull()
      // Another knex instance (another pool, as another process would have) restores it.
      const elsewhere = new KnexStore({ ...options, knex: open(target) })
      const restored = elsewhere.lock('forever', { owner: held.owner })
      expect(await restored.isOwned()).toBe(true)
      await restored.release()
      expect(await held.isLocked()).toBe(false)
      await Promise.all([store.close(), elsewhere.close()])
    })

    test('lock names live under the store prefix; namespaces do not share locks', async () => {
      const store = new KnexStore(own(knex, { prefix: 'app:' }))
      const first = store.namespace('a').lock('x')
      const second = store.namespace('b').lock('x')
      expect(await first.acquire()).toBe(1)
      expect(await second.acquire()).toBe(1)
      await store.close()
    })

    test('an owner longer than 255 bytes is refused up front', async () => {
      const store = new KnexStore(own(knex))
      expect(() => store.lock('x', { owner: 'o'.repeat(256) })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
      )
      expect(store.lock('x', { owner: 'o'.repeat(255) }).owner).toHaveLength(255)
      await store.close()
    })

    test('concurrent acquires on separate knex instances: exactly one wins each round', async () => {
      const options = own(knex)
      const stores = [knex, open(target), open(target)].map(
        (instance) => new KnexStore({ ...options, knex: instance }),
      )
      let lastToken = 0
      for (let round = 0; round < 20; round++) {
        const locks = stores.map((store) => store.lock('race', { ttl: 30_000 }))
        const results = await Promise.all(locks.map((lock) => lock.acquire()))
        const winners = results.filter((token) => token !== false)
        expect(winners).toHaveLength(1)
        expect(winners[0]).toBeGreaterThan(lastToken)
        lastToken = winners[0] as number
        await locks[results.findIndex((token) => token !== false)]?.release()
      }
      await Promise.all(stores.map((store) => store.close()))
    })
  })
}
