import { describe, expect, test } from 'vitest'
import { createTable, KnexStore } from '../src/index.js'
import { bytes, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()
// With preparedStatements the store keeps the connections it borrowed while its statements
// follow one another (at most 64 statements each, or until the next turn of the event loop with
// nothing to run; on SQLite one connection for such a burst): the application's queries still
// get their turn, and a transaction holding the only connection is waited for.
for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore prepared statements on ${name}`, () => {
    if (target === undefined) return

    test("a burst of store calls gives the pool's only connection back within 64 statements", async () => {
      const knex = open(target, { min: 1, max: 1 }, { acquireConnectionTimeout: 10_000 })
      const store = new KnexStore({ knex, prefix: 'burst:', preparedStatements: true })
      await store.set('k', bytes('v'))
      const order: string[] = []
      // The application queues for the connection while the store holds it ...
      const app = knex.raw('SELECT 1 AS one').then(() => order.push('app'))
      // ... and the store runs a burst that never yields to the event loop.
      for (let i = 0; i < 200; i++) order.push(`${i}:${text(await store.get('k'))}`)
      await app
      expect(order).toHaveLength(201)
      expect(order.indexOf('app')).toBeLessThanOrEqual(64)
      expect(order.filter((entry) => entry.endsWith(':v'))).toHaveLength(200)
      await store.close()
    })

    test('an application transaction on the only connection waits for the lease, then the store waits for it', async () => {
      const knex = open(target, { min: 1, max: 1 }, { acquireConnectionTimeout: 10_000 })
      const store = new KnexStore({ knex, prefix: 'trx:', preparedStatements: true })
      await store.set('k', bytes('before'))
      const trx = await knex.transaction()
      await trx(store.tableName)
        .where('key', 'trx:k')
        .update({ value: Buffer.from('inside') })
      const order: string[] = []
      // The store needs the connection the transaction holds: it must not run inside it.
      const read = store.get('k').then((value) => order.push(`store:${text(value)}`))
      await trx.raw('SELECT 1')
      order.push('commit')
      await trx.commit()
      await read
      expect(order).toEqual(['commit', 'store:inside'])
      await store.close()
    })
  })
}

// On PostgreSQL and MariaDB, statements beyond the pool's size wait for a kept connection, and a
// failed statement's connection goes back.
for (const { name, target } of targets.filter((entry) => entry.target?.kind !== 'sqlite')) {
  describe.skipIf(target === undefined)(`KnexStore prepared statements on ${name}, network`, () => {
    if (target === undefined) return

    test('more concurrent statements than connections all run, each once', async () => {
      const knex = open(target, { min: 0, max: 2 }, { acquireConnectionTimeout: 10_000 })
      const store = new KnexStore({ knex, prefix: 'many:', preparedStatements: true })
      const counts = await Promise.all(Array.from({ length: 300 }, () => store.increment('n')))
      expect(counts.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
      // Nothing kept once the store is idle: the application gets both connections.
      await new Promise((resolve) => setImmediate(resolve))
      const both = await Promise.all([knex.transaction(), knex.transaction()])
      await Promise.all(both.map((trx) => trx.rollback()))
      await store.close()
    })

    test('a failed statement rejects with a typed error, and the store goes on', async () => {
      const knex = open(target, { min: 0, max: 1 }, { acquireConnectionTimeout: 10_000 })
      const options = { tableName: 'prepared_missing', lockTableName: 'prepared_missing_locks' }
      const store = new KnexStore({
        knex,
        ...options,
        autoCreateTable: false,
        preparedStatements: true,
      })
      await expect(store.set('k', bytes('v'))).rejects.toMatchObject({
        code: 'E_BACKEND_UNAVAILABLE',
      })
      await createTable(knex, options)
      await store.set('k', bytes('v'))
      expect(text(await store.get('k'))).toBe('v')
      await store.close()
    })
  })
}
