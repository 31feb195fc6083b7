import type { Knex } from 'knex'
import Memcached from 'memcached'
import type { Client as MemjsClient } from 'memjs'
import type { Pool } from 'pg'
import { RateLimiterMemcache, RateLimiterPostgres } from 'rate-limiter-flexible'
import { type Contender, rlfOptions, WINDOW_MS } from './contenders.js'

const RAW_TABLE = 'bench_rl_raw'

/**
 * The ceiling on PostgreSQL: one named (prepared) statement on a plain `pg` pool of the same
 * size, which creates the counter or increments it, starting a new window when the stored one
 * has ended, and returns the count.
 */
export async function rawUpsert(pool: Pool): Promise<Contender> {
  await pool.query(`drop table if exists ${RAW_TABLE}`)
  await pool.query(
    `create table ${RAW_TABLE} (key varchar(255) primary key, count bigint not null, expires_at bigint not null)`,
  )
  const text = `insert into ${RAW_TABLE} (key, count, expires_at) values ($1, 1, $2)
on conflict (key) do update set
  count = case when ${RAW_TABLE}.expires_at <= $3 then 1 else ${RAW_TABLE}.count + 1 end,
  expires_at = case when ${RAW_TABLE}.expires_at <= $3 then excluded.expires_at else ${RAW_TABLE}.expires_at end
returning count`
  return {
    name: 'raw upsert-increment statement (pg, prepared)',
    consume: (key) => {
      const now = Date.now()
      return pool.query({ name: 'bench-raw-upsert', text, values: [key, now + WINDOW_MS, now] })
    },
  }
}

/** rate-limiter-flexible's RateLimiterPostgres over the same knex instance (its own table). */
export function flexiblePostgres(knex: Knex): Promise<Contender> {
  return new Promise((resolve, reject) => {
    const limiter = new RateLimiterPostgres(
      { ...rlfOptions, storeClient: knex, storeType: 'knex', tableName: 'bench_rl_rlf' },
      (error?: Error) => {
        if (error) reject(error)
        else {
          resolve({
            name: 'rate-limiter-flexible Postgres',
            consume: (key) => limiter.consume(key),
          })
        }
      },
    )
  })
}

/**
 * The ceiling on memcached: one binary-protocol increment with an initial value and an expiry,
 * so a missing counter is created with its TTL in the same atomic command (add+incr in one).
 */
export function rawIncrement(client: MemjsClient): Contender {
  const expires = WINDOW_MS / 1000
  return {
    name: 'raw memjs incr (initial + expiry)',
    consume: (key) => client.increment(`bench:raw:${key}`, 1, { initial: 1, expires }),
  }
}

/** rate-limiter-flexible's RateLimiterMemcache over the `memcached` client it is written for. */
export function flexibleMemcache(servers: string): { contender: Contender; close(): void } {
  const client = new Memcached(servers, { timeout: 10_000 })
  const limiter = new RateLimiterMemcache({ ...rlfOptions, storeClient: client, keyPrefix: 'rlf' })
  return {
    contender: { name: 'rate-limiter-flexible Memcache', consume: (key) => limiter.consume(key) },
    close: () => client.end(),
  }
}
