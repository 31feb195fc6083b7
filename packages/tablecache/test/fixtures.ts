import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Interval } from '@cellar/core'
import { KnexAccess, type KnexRecordsQuery } from '@cellar/knex'
import knexFactory, { type Knex } from 'knex'

/** A row of the test table: an order with a numeric id and a millisecond timestamp. */
export interface Order {
  id: number
  ts: number
  amount: number
  version: number
}

/** `WHERE (column >= ge AND column < lt) OR …`, leaving out infinite bounds. */
export function whereIntervals(
  query: Knex.QueryBuilder,
  column: string,
  intervals: readonly Interval[],
) {
  return query.where((outer) => {
    for (const { ge, lt } of intervals) {
      outer.orWhere((inner) => {
        if (Number.isFinite(ge)) inner.where(column, '>=', ge)
        if (Number.isFinite(lt)) inner.where(column, '<', lt)
        if (!Number.isFinite(ge) && !Number.isFinite(lt)) inner.whereRaw('1 = 1')
      })
    }
  })
}

/** The knex query builders the built-in indexes take, for the `orders` table. */
export const orderQueries = {
  queryAll: (): KnexRecordsQuery => (knex) => knex('orders'),
  queryKeys:
    (keys: readonly string[]): KnexRecordsQuery =>
    (knex) =>
      knex('orders').whereIn('id', keys.map(Number)),
  queryIntervals:
    (column: string) =>
    (intervals: readonly Interval[]): KnexRecordsQuery =>
    (knex) =>
      whereIntervals(knex('orders'), column, intervals),
}

/** A SQLite file with `orders` rows `1..count` (ts = id * 10), plus a KnexAccess over it. */
export async function openOrders(count: number): Promise<{
  knex: Knex
  access: KnexAccess<Order>
  close: () => Promise<void>
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-tablecache-'))
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: join(dir, 'db.sqlite') },
    useNullAsDefault: true,
  })
  await createOrders(knex, count)
  return {
    knex,
    access: new KnexAccess<Order>(knex, { batchSize: 37 }),
    close: async () => {
      await knex.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Collects an async iterable. */
export async function collect<R>(iterable: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Creates the `orders` table in `knex`'s database with rows `1..count` (ts = id * 10). */
export async function createOrders(knex: Knex, count: number): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    t.integer('id').primary()
    t.integer('ts').notNullable()
    t.integer('amount').notNullable()
    t.integer('version').notNullable()
  })
  const rows = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    ts: (i + 1) * 10,
    amount: i,
    version: 1,
  }))
  for (let i = 0; i < rows.length; i += 200) await knex('orders').insert(rows.slice(i, i + 200))
}

/** Reads in a loop until `done` settles; counts views mixing versions and incomplete views. */
export async function readLoop(
  read: () => Promise<Order[]>,
  expected: number,
  done: Promise<unknown>,
) {
  let finished = false
  void done.finally(() => {
    finished = true
  })
  const tally = { reads: 0, readsBeforeDone: 0, mixed: 0, incomplete: 0 }
  while (!finished || tally.reads < 3) {
    const before = !finished
    const view = await read()
    tally.reads++
    if (before) tally.readsBeforeDone++
    if (new Set(view.map((o) => o.version)).size > 1) tally.mixed++
    if (view.length !== expected) tally.incomplete++
  }
  return tally
}
