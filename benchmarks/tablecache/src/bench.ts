// CachedTable on LocalStorageTable and on RedisStorageTable against the SQL it replaces, on a
// seeded PostgreSQL table, paired call by call in one process (the machine may be loaded:
// compare the paired ratios, not absolute numbers).
// Usage: pnpm bench [rows=1000000] [iterations=1000]
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { setImmediate } from 'node:timers/promises'
import { KnexAccess, type KnexRecordsQuery } from '@cellar/knex'
import { RedisStorageTable } from '@cellar/redis'
import {
  CachedTable,
  LocalStorageTable,
  primaryKeyRangeIndexes,
  type RangeIndexes,
  timeRangeIndexes,
} from '@cellar/tablecache'
import { usePostgres, useRedis } from '@cellar/test-servers'
import { Redis as Redis6 } from 'ioredis'
import { Redis as Redis5 } from 'ioredis5'
import createKnex, { type Knex } from 'knex'
import { type Contender, load, measure, preparedContender, spread, table } from './paired.js'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const ITERATIONS = Number(process.argv[3] ?? 1_000)

interface Row {
  id: number
  ts: string
  amount: number
  note: string
}

// Every contender reads a field of every record it gets (the SQL rows too), then reports the
// count; a read that only counted would leave the cache's records untouched.
let checksum = 0
function touch(records: Iterable<Row>): number {
  let n = 0
  for (const record of records) {
    checksum += record.amount
    n++
  }
  return n
}
async function drain(iterable: AsyncIterable<Row>): Promise<number> {
  let n = 0
  for await (const record of iterable) {
    checksum += record.amount
    n++
  }
  return n
}

// Seeds the table unless it holds the wanted rows already (a previous run's table is reused).
async function seed(knex: Knex): Promise<boolean> {
  if (await knex.schema.hasTable('bench_orders')) {
    const [found] = await knex('bench_orders').count({ n: '*' }).max({ top: 'id' })
    if (Number(found?.n) === ROWS && Number(found?.top) === ROWS) return false
  }
  await knex.schema.dropTableIfExists('bench_orders')
  await knex.raw(
    'create table bench_orders (id integer primary key, ts bigint not null, amount integer not null, note text not null)',
  )
  await knex.raw(
    `insert into bench_orders select g, g::bigint * 10, (g::bigint * 7919) % 1000, 'order ' || g from generate_series(1, ?) g`,
    [ROWS],
  )
  await knex.raw('analyze bench_orders')
  return true
}

const pg = await usePostgres()
const redisServer = await useRedis()
if (pg === undefined || redisServer === undefined)
  throw new Error('PostgreSQL and Redis are needed')
// BENCH_PG_DATABASE=<name>: the table lives in that database (created when missing) and is kept,
// so the next run reuses it instead of seeding again; otherwise a fresh database per run.
const keep = process.env.BENCH_PG_DATABASE
if (keep !== undefined && !/^[a-z_][a-z0-9_]*$/.test(keep))
  throw new Error('BENCH_PG_DATABASE must be a plain lower-case name')
if (keep !== undefined) {
  const admin = createKnex({ client: 'pg', connection: { ...pg.connection } })
  try {
    const { rows } = await admin.raw('select 1 from pg_database where datname = ?', [keep])
    if (rows.length === 0) await admin.raw(`create database ${keep}`)
  } finally {
    await admin.destroy()
  }
}
const knex = createKnex({
  client: 'pg',
  connection: keep === undefined ? { ...pg.connection } : { ...pg.connection, database: keep },
  pool: { min: 1, max: 4 },
})
// BENCH_IOREDIS=5: the Redis table on ioredis 5 (the oldest of the peer range) instead of 6 (the
// major a plain install gets). ioredis 6's reply decoder costs more per reply element, which a
// 100-member range read pays 100 times (about 0.5 µs each here, 2026-12-03).
const major = process.env.BENCH_IOREDIS ?? '6'
if (major !== '5' && major !== '6') throw new Error('BENCH_IOREDIS must be 5 or 6')
const redis = (major === '5' ? new Redis5(redisServer.url) : new Redis6(redisServer.url)) as Redis6
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const where =
  (column: 'id' | 'ts') =>
  (intervals: readonly { ge: number; lt: number }[]): KnexRecordsQuery =>
  (k) =>
    k('bench_orders').where((q) => {
      for (const { ge, lt } of intervals)
        q.orWhere((w) => w.where(column, '>=', ge).where(column, '<', lt))
    })
const makeIndexes = (): RangeIndexes<Row, KnexRecordsQuery> =>
  primaryKeyRangeIndexes<Row, KnexRecordsQuery>({
    primaryKey: (r) => r.id,
    queryIntervals: where('id'),
    queryKeys: (keys) => (k) => k('bench_orders').whereIn('id', keys.map(Number)),
  })
const access = new KnexAccess<Row>(knex, { batchSize: 5_000 })
const half = Math.floor(ROWS / 2)
const shift = Math.floor(ROWS / 10)
const out: string[] = []
const say = (line: string) => {
  console.log(line)
  out.push(line)
}

try {
  const cpu = cpus()
  say(
    `## Results (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; ioredis ${major}; ${ROWS} rows, window ${half}; load average at start ${load()})\n`,
  )
  let start = performance.now()
  const seeded = await seed(knex)
  say(`- seed: ${seeded ? seconds(performance.now() - start) : 'reused the seeded table'}`)

  const localIndexes = makeIndexes()
  const local = new CachedTable(localIndexes, access, new LocalStorageTable(localIndexes))
  const redisIndexes = makeIndexes()
  const storage = new RedisStorageTable<Row>(redisIndexes, { connection: redis, name: 'bench' })
  const onRedis = new CachedTable(redisIndexes, access, storage)
  const window = { indexName: 'primaryKeyRange', ge: 1, lt: half + 1 }
  // The same window on another range index, `ts` (= id * 10): a range of `primaryKeyRange` is read
  // from the row array by key, a range of any other index from its B+ tree.
  const timeIndexes = timeRangeIndexes<Row, KnexRecordsQuery>({
    timestamp: (r) => Number(r.ts),
    primaryKey: (r) => r.id,
    queryIntervals: where('ts'),
    queryKeys: (keys) => (k) => k('bench_orders').whereIn('id', keys.map(Number)),
  })
  const byTime = new CachedTable(timeIndexes, access, new LocalStorageTable(timeIndexes))
  for (const [name, cached, spec] of [
    ['LocalStorageTable', local, window],
    ['LocalStorageTable (ts index)', byTime, { indexName: 'time', ge: 10, lt: (half + 1) * 10 }],
    ['RedisStorageTable', onRedis, window],
  ] as const) {
    const loadAt = load()
    start = performance.now()
    await cached.load(spec)
    say(
      `- \`load\` of ${half} rows into ${name}: ${seconds(performance.now() - start)} (load average ${loadAt})`,
    )
  }

  const rangeStart = (i: number) => 1 + ((i * 7_919) % (half - 200))
  const range = (i: number) => ({
    indexName: 'primaryKeyRange',
    ge: rangeStart(i),
    lt: rangeStart(i) + 100,
  })
  const keys = (i: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % half))
  const byKey = (i: number) => ({ indexName: 'primaryKey', keys: keys(i) })
  const expect = (n: number) => (count: number) => {
    if (count !== n) throw new Error(`a read returned ${count} records, not ${n}`)
  }
  // Each contender reads its own keys or range in an iteration (`at(i, k)`): reads sharing them
  // would find the records in the CPU caches (a 50-key local read measured 32-42 µs on first read,
  // 7 µs when read again at once), which an application reading other keys never does.
  const at = (i: number, k: number) => 8 * i + k
  // The floor of any in-process table: the same record objects (stored by reference, so just as
  // scattered in memory) in a plain array by id, read with no spec, coverage or index at all.
  const floor: Row[] = []
  for (const record of await local.collectRecords(window)) floor[record.id] = record
  const fromFloor = (ids: readonly number[]) => {
    let n = 0
    for (const id of ids) {
      checksum += (floor[id] as Row).amount
      n++
    }
    return n
  }
  // Keys, bounds and specs are built before each timed call, for every contender alike: a
  // 50-key spec took about 1.5 µs to build, a tenth of a local read (2026-12-03).
  const contenders = (
    sql: (i: number) => () => Promise<Row[]>,
    spec: (i: number) => { indexName: string; [k: string]: unknown },
    ids: (i: number) => readonly number[],
    n: number,
    more: Contender[] = [],
  ): Contender[] => [
    preparedContender(
      'SQL (knex)',
      (i) => sql(at(i, 0)),
      async (query) => expect(n)(touch(await query())),
    ),
    preparedContender(
      'local, for await',
      (i) => spec(at(i, 1)),
      async (s) => expect(n)(await drain(local.getRecords(s))),
    ),
    preparedContender(
      'local, collectRecords',
      (i) => spec(at(i, 2)),
      async (s) => expect(n)(touch(await local.collectRecords(s))),
    ),
    preparedContender(
      'local, peekRecords',
      (i) => spec(at(i, 3)),
      async (s) => {
        const found = local.peekRecords(s)
        if (found === undefined) throw new Error('peekRecords could not serve a covered read')
        expect(n)(touch(found))
      },
    ),
    ...more,
    preparedContender(
      'Redis, for await',
      (i) => spec(at(i, 4)),
      async (s) => expect(n)(await drain(onRedis.getRecords(s))),
    ),
    preparedContender(
      'Redis, collectRecords',
      (i) => spec(at(i, 5)),
      async (s) => expect(n)(touch(await onRedis.collectRecords(s))),
    ),
    preparedContender(
      'floor: a plain array by id',
      (i) => ids(at(i, 6)),
      async (list) => expect(n)(fromFloor(list)),
    ),
  ]
  for (const [title, list] of [
    [
      '100-record range',
      contenders(
        (i) => {
          const ge = rangeStart(i)
          return () =>
            knex('bench_orders')
              .where('id', '>=', ge)
              .where('id', '<', ge + 100)
        },
        range,
        (i) => Array.from({ length: 100 }, (_, j) => rangeStart(i) + j),
        100,
        [
          preparedContender(
            'local, ts range (B+ tree), peekRecords',
            (i) => {
              const ge = rangeStart(at(i, 7)) * 10
              return { indexName: 'time', ge, lt: ge + 1_000 }
            },
            async (s) => {
              const found = byTime.peekRecords(s)
              if (found === undefined) throw new Error('peekRecords could not serve a covered read')
              expect(100)(touch(found))
            },
          ),
        ],
      ),
    ],
    [
      '50 records by primary key',
      contenders(
        (i) => {
          const ids = keys(i)
          return () => knex('bench_orders').whereIn('id', ids)
        },
        byKey,
        keys,
        50,
      ),
    ],
  ] as const) {
    const startLoad = load()
    await measure(list, ITERATIONS)
    say(table(title, startLoad, list[0] as Contender, list))
  }

  // Shift each window by 10% of the table while a reader loops over ranges both windows hold.
  say('\n### `adjust`: window shifted by 10% of the table, one reader looping meanwhile\n')
  say('| storage | adjust | reads during it | read p50 / p99 / max |')
  say('| --- | ---: | ---: | --- |')
  for (const [name, cached] of [
    ['LocalStorageTable', local],
    ['RedisStorageTable', onRedis],
  ] as const) {
    const during: number[] = []
    let adjusting = true
    const reader = (async () => {
      let i = 0
      while (adjusting) {
        const ge = shift + 1 + ((i++ * 7_919) % (half - shift - 200))
        const t0 = performance.now()
        expect(100)(
          await drain(cached.getRecords({ indexName: 'primaryKeyRange', ge, lt: ge + 100 })),
        )
        during.push(performance.now() - t0)
        // Local reads settle in promise jobs only; a real reader is driven by I/O and so yields.
        await setImmediate()
      }
    })()
    const startLoad = load()
    start = performance.now()
    await cached.adjust({ indexName: 'primaryKeyRange', ge: shift + 1, lt: half + shift + 1 })
    const took = performance.now() - start
    adjusting = false
    await reader
    say(`| ${name} (load ${startLoad}) | ${seconds(took)} | ${during.length} | ${spread(during)} |`)
  }
  say(`\nload average at end ${load()} (checksum of the fields read: ${checksum})`)
  await storage.clear()
} finally {
  await knex.destroy()
  await redis.quit()
  await pg.dispose()
}
