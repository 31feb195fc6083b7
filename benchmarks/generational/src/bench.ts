// CachedRepository vs the SQL it replaces, interleaved in rounds in one process (the machine may
// be loaded: compare ratios, not absolute numbers). Usage: pnpm bench [rounds] [opsPerRound]
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { loadavg } from 'node:os'
import { CacheGateway, type StoreTraceContext } from '@cellar/core'
import { CachedRepository, GenerationalResolver, writeTags } from '@cellar/generational'
import { KnexRepository } from '@cellar/knex'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { uniquePrefix, usePostgres, useRedis } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'
import { CATEGORIES, type Product, ROWS, seed } from './seed.js'

const ROUNDS = Number(process.argv[2] ?? 15)
const OPS = Number(process.argv[3] ?? 200)

interface Contender {
  readonly name: string
  readonly op: (i: number) => Promise<unknown>
  readonly samples: number[]
}

function repository(knex: Knex): KnexRepository<Product> {
  return new KnexRepository<Product>(knex, {
    table: 'bench_products',
    entity: 'product',
    select: (db) =>
      db('bench_products')
        .join('bench_categories', 'bench_categories.id', 'bench_products.category_id')
        .select('bench_products.*', 'bench_categories.name as category_name'),
    filters: { category_id: 'bench_products.category_id' },
  })
}

// The same 20 list pages and 200 ids in every round, so cached contenders hit after round one.
const page = (i: number) => ({ page: 1 + (i % 5), limit: 20 })
const filters = (i: number) => ({ category_id: 1 + (i % 4) })
const id = (i: number) => 1 + ((i * 7919) % 200)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function measure(label: string, contenders: Contender[]): Promise<void> {
  for (const c of contenders) for (let i = 0; i < OPS; i++) await c.op(i) // warm
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) {
      const start = process.hrtime.bigint()
      for (let i = 0; i < OPS; i++) await c.op(i)
      c.samples.push(Number(process.hrtime.bigint() - start) / OPS / 1000)
    }
  }
  console.log(`\n${label} — median µs/op over ${ROUNDS} rounds of ${OPS} (min–max of rounds)`)
  for (const c of contenders) {
    const m = median(c.samples)
    console.log(
      `  ${c.name.padEnd(44)} ${m.toFixed(1).padStart(9)}  (${Math.min(...c.samples).toFixed(1)}–${Math.max(...c.samples).toFixed(1)})`,
    )
  }
}

function ratio(slow: Contender, fast: Contender): string {
  return `${(median(slow.samples) / median(fast.samples)).toFixed(2)}×`
}

async function suite(
  label: string,
  knex: Knex,
  data: CacheGateway,
  counters: CacheGateway,
  allowEvictingStore: boolean,
): Promise<string[]> {
  await seed(knex)
  const sql = repository(knex)
  const resolver = new GenerationalResolver(counters, { allowEvictingStore })
  const cached = new CachedRepository(sql, { data, resolver, ttl: '1h' })
  // Create every counter once, so an evicting-store run does not move its epoch mid-benchmark.
  await resolver.bump(
    writeTags(
      'product',
      Array.from({ length: 200 }, (_, i) => i + 1),
    ),
  )
  const c = (name: string, op: (i: number) => Promise<unknown>): Contender => ({
    name,
    op,
    samples: [],
  })
  const listSql = c('list page (20 rows, join, count): SQL', (i) => sql.list(page(i), filters(i)))
  const listCached = c('list page: CachedRepository hit', (i) => cached.list(page(i), filters(i)))
  const byIdSql = c('entity by id (join): SQL', (i) => sql.getById(id(i)))
  const byIdCached = c('entity by id: CachedRepository hit', (i) => cached.getById(id(i)))
  await measure(`${label}: list page`, [listSql, listCached])
  await measure(`${label}: entity by id`, [byIdSql, byIdCached])
  const updateSql = c('update one row: SQL', (i) => sql.update(id(i), { stock: i % 97 }))
  const updateCached = c('update one row + bump (3 tags): CachedRepository', (i) =>
    cached.update(id(i), { stock: i % 97 }),
  )
  const bump = c('bump alone (3 tags)', (i) => resolver.bump(writeTags('product', [id(i)])))
  await measure(`${label}: a write's invalidation`, [updateSql, updateCached, bump])
  const fingerprints: string[] = []
  for (const tags of [1, 10, 100, 1000]) {
    let reads = 0
    const count = (message: unknown) => {
      if ((message as StoreTraceContext).operation === 'getMany') reads++
    }
    subscribe('tracing:cellar:store:start', count)
    await resolver.fingerprint(Array.from({ length: tags }, (_, i) => `t${i}`))
    unsubscribe('tracing:cellar:store:start', count)
    fingerprints.push(`${tags} tags → ${reads} getMany`)
  }
  return [
    `${label}: cached list page ${ratio(listSql, listCached)} faster than its SQL`,
    `${label}: cached entity ${ratio(byIdSql, byIdCached)} faster than its SQL`,
    `${label}: a write through CachedRepository costs ${ratio(updateCached, updateSql)} the plain update (bump alone ${median(bump.samples).toFixed(1)} µs)`,
    `${label}: fingerprint reads — ${fingerprints.join(', ')}`,
  ]
}

const summary: string[] = []
console.log(
  `node ${process.version}, ${ROWS} rows, ${CATEGORIES} categories; load average at start ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
const pg = await usePostgres()
const redis = await useRedis()
if (pg && redis) {
  const knex = createKnex({
    client: 'pg',
    connection: { ...pg.connection },
    pool: { min: 1, max: 4 },
  })
  const data = new CacheGateway(
    new RedisStore({ connection: redis.url, prefix: uniquePrefix('bench-gen-data') }),
  )
  const counters = new CacheGateway(
    new RedisStore({ connection: redis.url, prefix: uniquePrefix('bench-gen-counters') }),
  )
  summary.push(...(await suite('Redis cache vs PostgreSQL', knex, data, counters, false)))
  await Promise.all([data.close(), counters.close(), knex.destroy()])
  await pg.dispose()
}
{
  const knex = createKnex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  })
  const data = new CacheGateway(new MemoryStore({ maxEntries: 100_000 }))
  const counters = new CacheGateway(new MemoryStore({ maxEntries: 100_000 }))
  summary.push(...(await suite('memory cache vs SQLite', knex, data, counters, true)))
  await Promise.all([data.close(), counters.close(), knex.destroy()])
}
console.log(
  `\nload average at end ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
for (const line of summary) console.log(`- ${line}`)
