// The store leans on parts of knex (and pg) that their documentation does not promise (README,
// "knex internals"). These tests fail if any of them stops working, on the oldest (3.1.0,
// installed as `knex-oldest`) and the newest knex in the peer range.
import { createRequire } from 'node:module'
import createKnex, { type Knex } from 'knex'
import createOldest from 'knex-oldest'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { bytes, knexConfig, randomPrefix, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets } = await useTargets()
const require = createRequire(import.meta.url)

const versions = [
  { label: 'knex (newest installed)', make: createKnex as (config: Knex.Config) => Knex },
  { label: 'knex 3.1.0 (oldest in range)', make: createOldest as unknown as typeof createKnex },
]

/** What each driver's own connection must offer the prepared-statement path. */
const connectionShape = {
  sqlite: 'prepare',
  pg: 'query',
  mysql: 'execute',
} as const

for (const { label, make } of versions) {
  describe(`knex internals used by the store, ${label}`, () => {
    test('the version under test is the one named', () => {
      const version = require(`${label.includes('3.1.0') ? 'knex-oldest' : 'knex'}/package.json`)
      if (label.includes('3.1.0')) expect(version.version).toBe('3.1.0')
      else expect(version.version).toMatch(/^3\./)
    })

    test('client.connectionSettings tells a private SQLite memory database from a file', async () => {
      const memory = make({ client: 'better-sqlite3', connection: { filename: ':memory:' } })
      const file = make({
        client: 'better-sqlite3',
        connection: { filename: `file:${randomPrefix('mem')}?mode=memory&cache=shared` },
      })
      expect(memory.client.connectionSettings).toMatchObject({ filename: ':memory:' })
      const stores = [new KnexStore({ knex: memory }), new KnexStore({ knex: file })]
      expect(stores.map((store) => store.capabilities.sharedAcrossProcesses)).toEqual([
        false,
        false,
      ])
      await Promise.all(stores.map((store) => store.close()))
      await Promise.all([memory.destroy(), file.destroy()])
    })

    for (const { name, target } of targets) {
      describe.skipIf(target === undefined)(`on ${name}`, () => {
        if (target === undefined) return

        test('client.driverName and client.dialect pick the dialect', async () => {
          const knex = make(knexConfig(target))
          const { driverName } = knex.client as { driverName?: string }
          expect(driverName).toBe(
            { sqlite: 'better-sqlite3', pg: 'pg', mysql: 'mysql2' }[target.kind],
          )
          const store = new KnexStore({ knex, pruneInterval: false })
          expect(store.dialect).toBe(target.kind)
          if (target.kind === 'sqlite') expect(store.capabilities.sharedAcrossProcesses).toBe(true)
          await store.close()
          await knex.destroy()
        })

        test('client.acquireConnection lends the driver connection the prepared path runs on', async () => {
          const knex = make(knexConfig(target))
          const client = knex.client as {
            acquireConnection(): Promise<Record<string, unknown>>
            releaseConnection(connection: unknown): Promise<unknown>
          }
          const connection = await client.acquireConnection()
          expect(typeof connection[connectionShape[target.kind]]).toBe('function')
          await client.releaseConnection(connection)
          const store = new KnexStore({
            knex,
            prefix: randomPrefix('internals'),
            pruneInterval: false,
            preparedStatements: true,
          })
          await store.set('k', bytes('v'), 60_000)
          expect(text(await store.get('k'))).toBe('v')
          expect(await store.increment('n', 2, { ttl: 60_000 })).toBe(2)
          const lock = store.lock('l')
          expect(await lock.acquire()).toBeGreaterThan(0)
          await lock.release()
          await store.clear()
          await store.close()
          await knex.destroy()
        })

        test.skipIf(target.kind === 'sqlite')(
          'a broken connection is marked __knex__disposed (the prepared path then gives it back)',
          async () => {
            const knex = make(knexConfig(target))
            const client = knex.client as {
              acquireConnection(): Promise<{ emit(event: string, error: Error): void }>
              releaseConnection(connection: unknown): Promise<unknown>
            }
            const connection = await client.acquireConnection()
            expect((connection as { __knex__disposed?: unknown }).__knex__disposed).toBeFalsy()
            const gone = new Error('gone')
            connection.emit('error', gone)
            expect((connection as { __knex__disposed?: unknown }).__knex__disposed).toBe(gone)
            await client.releaseConnection(connection)
            await knex.destroy()
          },
        )

        test.skipIf(target.kind !== 'pg')(
          "pg's Client.Query, built from text, values and callback and named after, runs as a named prepared statement",
          async () => {
            const knex = make(knexConfig(target))
            const client = knex.client as {
              acquireConnection(): Promise<PgClient>
              releaseConnection(connection: unknown): Promise<unknown>
            }
            const connection = await client.acquireConnection()
            const { Query } = connection.constructor
            expect(typeof Query).toBe('function')
            const run = (name: string, value: number) =>
              new Promise<unknown>((resolve, reject) => {
                const query = new Query('SELECT $1::int AS n', [value], (error, result) =>
                  error ? reject(error) : resolve(result),
                )
                query.name = name
                connection.query(query)
              })
            const name = randomPrefix('cellar_internals').replace(/[^a-z0-9_]/gi, '_')
            expect(await run(name, 5)).toMatchObject({ rows: [{ n: 5 }] })
            expect(await run(name, 6)).toMatchObject({ rows: [{ n: 6 }] })
            const prepared = await new Promise<{ rows: Array<{ name: string }> }>(
              (resolve, reject) => {
                const query = new Query(
                  'SELECT name FROM pg_prepared_statements',
                  [],
                  (error, result) =>
                    error ? reject(error) : resolve(result as { rows: Array<{ name: string }> }),
                )
                connection.query(query)
              },
            )
            expect(prepared.rows.map((row) => row.name)).toContain(name)
            await client.releaseConnection(connection)
            await knex.destroy()
          },
        )
      })
    }
  })
}

/** The part of pg's `Client` the prepared path uses (prepared.ts). */
interface PgClient {
  query(query: unknown): void
  readonly constructor: {
    readonly Query: new (
      text: string,
      values: unknown[],
      callback: (error: Error | null, result: unknown) => void,
    ) => { name: string | undefined }
  }
}
