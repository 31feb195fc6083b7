import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { bytes, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()
const sqlite = targets.find((entry) => entry.target?.kind === 'sqlite')?.target

// With preparedStatements on SQLite the store keeps the connection it borrowed for a burst of
// statements (at most 64, or until the next turn of the event loop): these check that the
// application's own queries on a one-connection pool still get their turn.
describe.skipIf(sqlite === undefined)('KnexStore prepared statements on SQLite', () => {
  if (sqlite === undefined) return

  test("a burst of store calls gives the pool's only connection back within 64 statements", async () => {
    const knex = open(sqlite, { min: 1, max: 1 }, { acquireConnectionTimeout: 10_000 })
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
    const knex = open(sqlite, { min: 1, max: 1 }, { acquireConnectionTimeout: 10_000 })
    const store = new KnexStore({ knex, prefix: 'trx:', preparedStatements: true })
    await store.set('k', bytes('before'))
    const trx = await knex.transaction()
    await trx.raw(`UPDATE cellar_cache SET value = ? WHERE key = 'trx:k'`, [Buffer.from('inside')])
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
