import type { Knex } from 'knex'
import { describe, expect, test, vi } from 'vitest'
import { KnexStore } from '../src/index.js'
import { bytes, openKnex, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()

/** What the fault needs from a server dialect: the session id, and how to see and end it. */
interface Killer {
  sessionId(knex: Knex): Promise<number>
  waitingOnLock(admin: Knex.Transaction, id: number): Promise<boolean>
  kill(admin: Knex.Transaction, id: number): Promise<unknown>
}

const killers: Record<'pg' | 'mysql', Killer> = {
  pg: {
    sessionId: async (knex) => (await knex.raw('SELECT pg_backend_pid() AS id')).rows[0].id,
    waitingOnLock: async (admin, id) =>
      (await admin.raw('SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?', [id])).rows[0]
        ?.wait_event_type === 'Lock',
    kill: (admin, id) => admin.raw('SELECT pg_terminate_backend(?)', [id]),
  },
  mysql: {
    sessionId: async (knex) => (await knex.raw('SELECT CONNECTION_ID() AS id'))[0][0].id,
    waitingOnLock: async (admin, id) =>
      (
        await admin.raw(
          "SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ? AND trx_state = 'LOCK WAIT'",
          [id],
        )
      )[0][0].n > 0,
    kill: (admin, id) => admin.raw(`KILL ${Number(id)}`),
  },
}

/**
 * Calls `operation` until it succeeds (at most 5 tries): every failure on the way must be the
 * typed backend error wrapping the driver's error.
 */
async function recovers<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation()
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' })
      expect((error as Error).cause).toBeInstanceOf(Error)
      if (attempt === 5) throw error
    }
  }
}

for (const { name, target } of targets.filter((entry) => entry.name !== 'SQLite')) {
  describe.skipIf(target === undefined)(`KnexStore faults on ${name}`, () => {
    if (target === undefined || target.kind === 'sqlite') return
    const killer = killers[target.kind]

    test.each([
      ['knex.raw', false],
      ['preparedStatements', true],
    ])(
      'the connection killed mid-query (%s): typed error with the driver error as cause, then recovery',
      async (_, preparedStatements) => {
        // One connection, so the session the admin kills is the one the store is using.
        const knex = open(target, { min: 0, max: 1 })
        const admin = open(target, { min: 0, max: 1 })
        const store = new KnexStore({
          knex,
          prefix: `fault-${preparedStatements}:`,
          pruneInterval: false,
          preparedStatements,
        })
        await store.set('k', bytes('before'))
        const id = await killer.sessionId(knex)
        // Hold the row so the store's next write waits inside the database, then end its session.
        const trx = await admin.transaction()
        await trx(store.tableName).where('key', `fault-${preparedStatements}:k`).forUpdate().first()
        const pending = store.set('k', bytes('during')).then(
          () => undefined,
          (error: unknown) => error,
        )
        // Polled slowly: InnoDB refreshes its information_schema lock tables only when they
        // have not been read for 100 ms.
        await vi.waitFor(async () => expect(await killer.waitingOnLock(trx, id)).toBe(true), {
          timeout: 10_000,
          interval: 250,
        })
        await killer.kill(trx, id)
        const error = await pending
        await trx.rollback()
        expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', key: 'k' })
        expect((error as Error).message).toMatch(/^\[cellar:knex\] set "k" failed/)
        expect((error as Error).cause).toBeInstanceOf(Error)
        // The pool notices the dead connection (at most a call later) and opens a new one.
        await recovers(() => store.set('k', bytes('after')))
        expect(text(await store.get('k'))).toBe('after')
        expect(await killer.sessionId(knex)).not.toBe(id)
        expect(await store.increment('n')).toBe(1)
        await store.close()
      },
    )

    test('an idle connection killed between calls: typed errors at most, then recovery', async () => {
      const knex = open(target, { min: 0, max: 1 })
      const admin = open(target, { min: 0, max: 1 })
      const store = new KnexStore({ knex, prefix: 'idle:', pruneInterval: false })
      await store.set('k', bytes('v'))
      for (let round = 0; round < 3; round++) {
        const id = await killer.sessionId(knex)
        await admin.transaction((trx) => killer.kill(trx, id))
        expect(text(await recovers(() => store.get('k')))).toBe('v')
      }
      await store.close()
    })
  })
}

const sqlite = targets.find((entry) => entry.target?.kind === 'sqlite')?.target
describe.skipIf(sqlite === undefined)('KnexStore faults on SQLite', () => {
  test('a database locked past the busy timeout: typed error, then recovery', async () => {
    if (sqlite === undefined || sqlite.kind !== 'sqlite') return
    const knex = openKnex(sqlite, {
      afterCreate: (connection: { pragma(sql: string): unknown }, done: () => void) => {
        connection.pragma('busy_timeout = 100')
        done()
      },
    })
    const store = new KnexStore({ knex, tableName: 'busy_cache', pruneInterval: false })
    await store.set('k', bytes('before'))
    // Another connection (as another process would) takes the write lock and keeps it.
    const other = openKnex(sqlite, { min: 1, max: 1 })
    const holder = (await other.client.acquireConnection()) as { exec(sql: string): void }
    holder.exec('BEGIN EXCLUSIVE')
    const error = await store.set('k', bytes('during')).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', key: 'k' })
    expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^SQLITE_BUSY/)
    holder.exec('COMMIT')
    await other.client.releaseConnection(holder)
    await other.destroy()
    await store.set('k', bytes('after'))
    expect(text(await store.get('k'))).toBe('after')
    await store.close()
    await knex.destroy()
  })
})
