// Client instructions per consume of the PostgreSQL contenders (load-independent): this
// process's share, the other side of `pg-server-cost.ts`. The PostgreSQL server (findPostgres, a
// scratch database) runs normally; each contender runs in `node` under `valgrind
// --tool=callgrind` twice, with the same warm-up and N then 3N measured consumes (64 callers
// over 1,024 keys, pools of 10, as in bench.ts); the difference of the two totals over 2N is its
// count (start-up, tsx and warm-up cancel out).
//   tsx src/pg-client-cost.ts raw flexible fixed sliding bucket layout   (CALLGRIND_WARM,
//   CALLGRIND_OPS; `layout` = pg-layouts.ts's minimal integer fixed window on a plain pg pool)
import { loadavg } from 'node:os'
import { KnexStore } from '@cellar/knex'
import { findPostgres } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'
import pg from 'pg'
import { cellar } from './contenders.js'
import { flexiblePostgres, rawUpsert } from './contenders-stores.js'
import { ALGORITHMS, callgrindTotal, rounds } from './cost-harness.js'
import { layoutContender, layouts } from './pg-layouts.js'

const WARM = Number(process.env.CALLGRIND_WARM ?? 3_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 3_000)
const here = new URL('.', import.meta.url).pathname

async function contender(spec: string, connection: Knex.PgConnectionConfig) {
  const knex = createKnex({ client: 'pg', connection, pool: { max: 10 } })
  const pool = new pg.Pool({ ...(connection as pg.PoolConfig), max: 10 })
  const close = async () => {
    await knex.destroy()
    await pool.end()
  }
  if (spec === 'raw') return { c: await rawUpsert(pool), close }
  if (spec === 'flexible') return { c: await flexiblePostgres(knex), close }
  if (spec === 'layout') {
    const layout = layouts.find((l) => l.name.includes('int2 fixed minimal (L - p'))
    if (layout === undefined) throw new Error('no such layout')
    return { c: { name: spec, consume: await layoutContender(layout, pool) }, close }
  }
  const algorithm = ALGORITHMS[spec as keyof typeof ALGORITHMS]
  if (algorithm === undefined) throw new Error(`unknown contender ${spec}`)
  const store = new KnexStore({
    knex,
    prefix: 'cost:',
    tableName: 'bench_cost_cache',
    pruneInterval: false,
    preparedStatements: true,
  })
  return { c: cellar(store, algorithm as 'fixed-window', spec), close }
}

const [first, ...rest] = process.argv.slice(2)
if (first === '--child') {
  const [spec = 'raw', connection = '{}', ops = '0'] = rest
  const { c, close } = await contender(spec, JSON.parse(connection))
  await rounds(c, WARM)
  await rounds(c, Number(ops))
  await close()
} else {
  const database = await findPostgres()
  if (database === undefined) throw new Error('no PostgreSQL')
  const connection = JSON.stringify(database.connection)
  console.log(`warm-up ${WARM}, measured ${OPS} and ${3 * OPS}; load ${loadavg()[0]?.toFixed(2)}`)
  console.log('| contender | client instructions per consume |\n| --- | ---: |')
  try {
    for (const spec of [first, ...rest].filter((s) => s !== undefined)) {
      const short = await callgrindTotal(`${here}pg-client-cost.ts`, [
        '--child',
        spec,
        connection,
        String(OPS),
      ])
      const long = await callgrindTotal(`${here}pg-client-cost.ts`, [
        '--child',
        spec,
        connection,
        String(3 * OPS),
      ])
      console.log(`| ${spec} | ${Math.round((long - short) / (2 * OPS))} |`)
    }
  } finally {
    await database.dispose()
  }
}
