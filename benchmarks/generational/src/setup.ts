import { CacheGateway } from '@cellar/core'
import * as generational from '@cellar/generational'
import { KnexRepository } from '@cellar/knex'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { uniquePrefix, usePostgres, useRedis } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'
import { type Product, seed } from './seed.js'

type Generational = typeof generational
type Cached = generational.CachedRepository<Product>

/** One side-by-side pair: a database, its repository, and cached repositories over it. */
export interface Pair {
  readonly label: string
  readonly knex: Knex
  readonly sql: KnexRepository<Product>
  /** This checkout's `CachedRepository` and its resolver. */
  readonly cached: Cached
  readonly resolver: generational.GenerationalResolver
  /** The same over another build (`BENCH_BEFORE`), on stores of its own; else undefined. */
  readonly before: Cached | undefined
  close(): Promise<void>
}

/** The build named by `BENCH_BEFORE` (a built `@cellar/generational` ESM entry), if any. */
export async function loadBefore(): Promise<Generational | undefined> {
  const path = process.env.BENCH_BEFORE
  return path === undefined ? undefined : ((await import(path)) as Generational)
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

interface Stores {
  /** A data gateway and a counter gateway for one build. */
  gateways: () => { data: CacheGateway; counters: CacheGateway }
  allowEvictingStore: boolean
}

async function pair(
  label: string,
  knex: Knex,
  stores: Stores,
  before: Generational | undefined,
  dispose: () => Promise<void>,
): Promise<Pair> {
  await seed(knex)
  const sql = repository(knex)
  const gateways: CacheGateway[] = []
  const build = (lib: Generational) => {
    const { data, counters } = stores.gateways()
    gateways.push(data, counters)
    const resolver = new lib.GenerationalResolver(counters, {
      allowEvictingStore: stores.allowEvictingStore,
    })
    return { resolver, cached: new lib.CachedRepository(sql, { data, resolver, ttl: '1h' }) }
  }
  const now = build(generational)
  const old = before === undefined ? undefined : build(before)
  // Create every counter the run bumps, so an evicting-store run does not move its epoch.
  const ids = Array.from({ length: 200 }, (_, i) => i + 1)
  await now.resolver.bump(generational.writeTags('product', ids))
  await old?.resolver.bump(generational.writeTags('product', ids))
  return {
    label,
    knex,
    sql,
    cached: now.cached,
    resolver: now.resolver,
    before: old?.cached,
    close: async () => {
      await Promise.all(gateways.map((gateway) => gateway.close()))
      await knex.destroy()
      await dispose()
    },
  }
}

/** Redis cache (data and counters) vs PostgreSQL, or undefined when either is missing. */
export async function redisPostgres(before: Generational | undefined): Promise<Pair | undefined> {
  const [pg, redis] = await Promise.all([usePostgres(), useRedis()])
  if (pg === undefined || redis === undefined) return undefined
  const knex = createKnex({
    client: 'pg',
    connection: { ...pg.connection },
    pool: { min: 1, max: 4 },
  })
  // Data and counters on one Redis connection, in two namespaces (BENCH_REDIS_CLIENTS=2: two).
  const clients = Number(process.env.BENCH_REDIS_CLIENTS ?? 1)
  const gateways = () => {
    const store = () => new RedisStore({ connection: redis.url, prefix: uniquePrefix('bench-gen') })
    const shared = store()
    return {
      data: new CacheGateway(shared, { prefix: 'data' }),
      counters: new CacheGateway(clients === 2 ? store() : shared, { prefix: 'counters' }),
    }
  }
  return pair(
    `Redis cache vs PostgreSQL${clients === 2 ? ' (two Redis connections)' : ''}`,
    knex,
    { gateways, allowEvictingStore: false },
    before,
    () => pg.dispose(),
  )
}

/** `MemoryStore` cache (bytes mode, MessagePack) vs an in-memory SQLite database. */
export function memorySqlite(before: Generational | undefined): Promise<Pair> {
  const knex = createKnex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  })
  const store = () => new CacheGateway(new MemoryStore({ maxEntries: 100_000 }))
  return pair(
    'memory cache vs SQLite',
    knex,
    { gateways: () => ({ data: store(), counters: store() }), allowEvictingStore: true },
    before,
    async () => {},
  )
}
