import type { DbAccess } from '@cellar/core'
import type { Knex } from 'knex'
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest'
import { KnexAccess, type KnexRecordsQuery } from '../src/index.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()

interface Player {
  id: number
  team: string
  name: string
  score: number
}

const ROWS = 1_234
const TEAMS = ['red', 'blue', 'green']
const players: Player[] = Array.from({ length: ROWS }, (_, i) => ({
  id: i + 1,
  team: TEAMS[i % 3] as string,
  name: `player ${i + 1}`,
  score: (i * 37) % 101,
}))

async function collect<R>(iterable: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = []
  for await (const item of iterable) out.push(item)
  return out
}

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexAccess on ${name}`, () => {
    if (target === undefined) return
    const knex = open(target)
    const table = `players_${process.pid}`

    beforeAll(async () => {
      await knex.schema.dropTableIfExists(table)
      await knex.schema.createTable(table, (t) => {
        t.integer('id').primary()
        t.string('team', 16).notNullable()
        t.string('name', 64).notNullable()
        t.integer('score').notNullable()
      })
      for (let i = 0; i < players.length; i += 200) {
        await knex(table).insert(players.slice(i, i + 200))
      }
    })

    test('streams every selected row as a plain object, in key order, batch by batch', async () => {
      const access = new KnexAccess<Player>(knex, { key: 'id', batchSize: 100 })
      let queries = 0
      const count = () => {
        queries++
      }
      knex.on('query', count)
      const rows = await collect(access.getRecords({ query: knex(table).select('*') }))
      knex.off('query', count)
      expect(rows).toHaveLength(ROWS)
      expect(rows.map((row) => row.id)).toEqual(players.map((player) => player.id))
      expect(rows[41]).toEqual(players[41])
      for (const row of rows) expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
      // ceil(1234 / 100) batches, the last one short: the whole result was never one query.
      expect(queries).toBe(13)
    })

    test('holds one batch at a time: rows fetched never run more than a batch ahead of rows taken', async () => {
      const access = new KnexAccess<Player>(knex, { batchSize: 100 })
      let fetched = 0
      const sqls: string[] = []
      const onResponse = (response: unknown) => {
        if (Array.isArray(response)) fetched += response.length
      }
      const onQuery = (query: { sql: string }) => {
        sqls.push(query.sql)
      }
      knex.on('query-response', onResponse)
      knex.on('query', onQuery)
      const aheadAt: number[] = []
      try {
        let taken = 0
        for await (const _ of access.getRecords({ query: knex(table).select('*') })) {
          taken++
          aheadAt.push(fetched - taken)
          // Before the first row is handed over, exactly one batch has come from the database.
          if (taken === 1) expect(fetched).toBe(100)
          if (taken === 101) expect(fetched).toBe(200)
        }
        expect(taken).toBe(ROWS)
      } finally {
        knex.off('query-response', onResponse)
        knex.off('query', onQuery)
      }
      expect(fetched).toBe(ROWS)
      expect(Math.max(...aheadAt)).toBe(99)
      // Every query the access sent was bounded by the batch size.
      expect(sqls.length).toBe(13)
      for (const sql of sqls) expect(sql.toLowerCase()).toMatch(/\blimit\b/)
    })

    test('a query function gets the knex instance; OR conditions stay grouped', async () => {
      const access = new KnexAccess<Player>(knex, { batchSize: 50 })
      const query: KnexRecordsQuery = (db) =>
        db(table).select('id', 'name').where('team', 'red').orWhere('score', 100)
      const rows = await collect(access.getRecords({ query }))
      const expected = players.filter((p) => p.team === 'red' || p.score === 100)
      expect(rows.map((row) => row.id)).toEqual(expected.map((p) => p.id))
      expect(Object.keys(rows[0] as object).sort()).toEqual(['id', 'name'])
    })

    test('a composite key pages through rows that share its first column', async () => {
      const access = new KnexAccess<Player>(knex, { key: ['score', 'id'], batchSize: 64 })
      const rows = await collect(access.getRecords({ query: knex(table).select('*') }))
      const expected = [...players].sort((a, b) => a.score - b.score || a.id - b.id)
      expect(rows.map((row) => row.id)).toEqual(expected.map((p) => p.id))
    })

    test('an empty result yields nothing', async () => {
      const access = new KnexAccess<Player>(knex)
      const query = knex(table).select('*').where('team', 'none')
      expect(await collect(access.getRecords({ query }))).toEqual([])
    })

    test('breaking out early returns the connection to the pool', async () => {
      // One connection and a short acquire timeout: a leaked connection would make the next
      // query fail instead of answering.
      const single = open(target, { min: 0, max: 1 }, { acquireConnectionTimeout: 2_000 })
      const access = new KnexAccess<Player>(single, { batchSize: 10 })
      for (let round = 0; round < 3; round++) {
        let seen = 0
        for await (const row of access.getRecords({ query: single(table).select('*') })) {
          expect(row.id).toBe(seen + 1)
          seen++
          if (seen === 15) break
        }
        expect(seen).toBe(15)
        const counted = await single(table).count({ total: '*' })
        expect(Number(counted[0]?.total)).toBe(ROWS)
      }
    })

    test('a failing query is a typed error wrapping the driver error', async () => {
      const access = new KnexAccess(knex)
      const query = knex('no_such_table').select('*')
      const error = await collect(access.getRecords({ query })).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' })
      expect((error as Error).cause).toBeInstanceOf(Error)
    })

    test('rejects a spec whose query is not a builder', async () => {
      const access = new KnexAccess(knex)
      const bad = { query: 'select 1' as unknown as KnexRecordsQuery }
      await expect(collect(access.getRecords(bad))).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
      })
    })
  })
}

describe('KnexAccess types', () => {
  test('implements core DbAccess with the row type the caller gives', () => {
    expectTypeOf<KnexAccess<Player>>().toMatchTypeOf<DbAccess<Player, KnexRecordsQuery>>()
    expectTypeOf<ReturnType<KnexAccess<Player>['getRecords']>>().toMatchTypeOf<
      AsyncIterable<Player>
    >()
    expect(() => new KnexAccess({} as Knex)).toThrow(/knex instance/)
    expect(() => new KnexAccess((() => {}) as unknown as Knex, { batchSize: 0 })).toThrow(
      /batchSize/,
    )
  })
})
