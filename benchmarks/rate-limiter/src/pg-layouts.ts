// Candidate PostgreSQL limiter layouts, measured bare before any of them is built into
// @cellar/knex (pg-server-cost.ts with PG_COST_LAYOUTS=1, pg-client-cost.ts `layout`): each is
// one named prepared statement on a plain `pg` pool over a table of its own, consuming 1 point
// of a 60 s window with the limit out of reach (as the bench). "server clock" rows read
// statement_timestamp() as cellar's layouts do; "client clock" rows bind the caller's Date.now()
// (rate-limiter-flexible's way). `int` tables keep core's state as bigint columns (a, b, w,
// blocked_until, expires_at); `int2` ones only a count and its window's end; `bytea` is the cache
// table's shape (value bytea, expires_at bigint) with the count layout's casts.
import type { Pool } from 'pg'
import { LIMIT, WINDOW_MS } from './contenders.js'

const NOW = "floor(date_part('epoch', statement_timestamp()) * 1000)::bigint"
const READING = "date_part('epoch', statement_timestamp())"
const TABLE = 'bench_rl_layout'
const W = WINDOW_MS

/** A candidate statement, its table's columns after `key`, and its values for one consume. */
export interface Layout {
  readonly name: string
  readonly columns: string
  readonly sql: string
  values(key: string, now: number): unknown[]
}

const STATE =
  'a bigint NOT NULL, b bigint NOT NULL, w bigint NOT NULL, blocked_until bigint NOT NULL, expires_at bigint NOT NULL'

export const layouts: Layout[] = [
  {
    name: 'layout int fixed, server clock',
    columns: STATE,
    sql: `INSERT INTO ${TABLE} AS c (key, a, b, w, blocked_until, expires_at) VALUES ($1, $2, 0, ${NOW} + $3::bigint, 0, ${NOW} + $3::bigint) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.w > excluded.w - $3 THEN c.a + $2 ELSE $2 END, w = CASE WHEN c.w > excluded.w - $3 THEN c.w ELSE excluded.w END, blocked_until = 0, expires_at = CASE WHEN c.w > excluded.w - $3 THEN c.w ELSE excluded.w END WHERE c.blocked_until <= excluded.w - $3 AND (c.w <= excluded.w - $3 OR c.a + $2 <= $4) RETURNING a, w, ${READING} AS now`,
    values: (key) => [key, 1, W, LIMIT],
  },
  {
    name: 'layout int fixed, client clock',
    columns: STATE,
    sql: `INSERT INTO ${TABLE} AS c (key, a, b, w, blocked_until, expires_at) VALUES ($1, $2, 0, $3, 0, $3) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.w > $4 THEN c.a + $2 ELSE $2 END, w = CASE WHEN c.w > $4 THEN c.w ELSE $3 END, blocked_until = 0, expires_at = CASE WHEN c.w > $4 THEN c.w ELSE $3 END WHERE c.blocked_until <= $4 AND (c.w <= $4 OR c.a + $2 <= $5) RETURNING a, w`,
    values: (key, now) => [key, 1, now + W, now, LIMIT],
  },
  {
    name: 'layout int fixed, client clock, no block column',
    columns: 'a bigint NOT NULL, expires_at bigint NOT NULL',
    sql: `INSERT INTO ${TABLE} AS c (key, a, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.expires_at > $4 THEN c.a + $2 ELSE $2 END, expires_at = CASE WHEN c.expires_at > $4 THEN c.expires_at ELSE $3 END WHERE c.expires_at <= $4 OR c.a + $2 <= $5 RETURNING a, expires_at`,
    values: (key, now) => [key, 1, now + W, now, LIMIT],
  },
  {
    name: 'layout int sliding, client clock',
    columns: STATE,
    // $3 start, $4 start - W, $5 now, $6 weight of the previous window (start + W - now), $7 (L - p) * W
    sql: `INSERT INTO ${TABLE} AS c (key, a, b, w, blocked_until, expires_at) VALUES ($1, $2, 0, $3::bigint, 0, $3::bigint + $8::bigint) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.w >= $3 THEN c.a + $2 ELSE $2 END, b = CASE WHEN c.w >= $3 THEN c.b WHEN c.w = $4 THEN c.a ELSE 0 END, w = greatest(c.w, $3), blocked_until = 0, expires_at = greatest(c.w, $3) + $8 WHERE c.blocked_until <= $5 AND CASE WHEN c.w >= $3 THEN c.b * $6 + c.a * $9 WHEN c.w = $4 THEN c.a * $6 ELSE 0 END <= $7 RETURNING a, b, w`,
    values: (key, now) => {
      const start = now - (now % W)
      return [key, 1, start, start - W, now, start + W - now, (LIMIT - 1) * W, 2 * W, W]
    },
  },
  {
    name: 'layout int bucket, client clock',
    columns: STATE,
    // GCRA, p * W = q * L + r: $2 now, $3 q, $4 r, $5 L, $6 now + q, $7 now + W
    sql: `INSERT INTO ${TABLE} AS c (key, a, b, w, blocked_until, expires_at) VALUES ($1, $6::bigint, $4::bigint, 0, 0, $6::bigint + ($4::bigint > 0)::int) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.a >= $2 THEN c.a + $3 + (c.b + $4) / $5 ELSE $6 END, b = CASE WHEN c.a >= $2 THEN (c.b + $4) % $5 ELSE $4 END, blocked_until = 0, expires_at = CASE WHEN c.a >= $2 THEN c.a + $3 + (c.b + $4 + $5 - 1) / $5 ELSE $6 + ($4 > 0)::int END WHERE c.blocked_until <= $2 AND (c.a < $2 OR c.a + $3 + (c.b + $4) / $5 <= $7) RETURNING a, b`,
    values: (key, now) => {
      const pw = W
      const r = pw % LIMIT
      const q = (pw - r) / LIMIT
      return [key, now, q, r, LIMIT, now + q, now + W]
    },
  },
  {
    name: 'layout int2 flexible-shaped (no limit check), client clock',
    columns: 'a bigint NOT NULL, expires_at bigint NOT NULL',
    sql: `INSERT INTO ${TABLE} AS c (key, a, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.expires_at <= $4 THEN $2 ELSE c.a + $2 END, expires_at = CASE WHEN c.expires_at <= $4 THEN $3 ELSE c.expires_at END RETURNING a, expires_at`,
    values: (key, now) => [key, 1, now + W, now],
  },
  {
    name: 'layout int2 fixed minimal (L - p bound), client clock',
    columns: 'a bigint NOT NULL, expires_at bigint NOT NULL',
    sql: `INSERT INTO ${TABLE} AS c (key, a, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.expires_at > $4 THEN c.a + $2 ELSE $2 END, expires_at = CASE WHEN c.expires_at > $4 THEN c.expires_at ELSE $3 END WHERE c.expires_at <= $4 OR c.a <= $5 RETURNING a, expires_at`,
    values: (key, now) => [key, 1, now + W, now, LIMIT - 1],
  },
  {
    name: 'layout bytea fixed (cache table), client clock',
    columns: 'value bytea NOT NULL, expires_at bigint',
    sql: `INSERT INTO ${TABLE} AS c (key, value, expires_at) VALUES ($1, CAST($2 AS bytea), $3) ON CONFLICT (key) DO UPDATE SET value = CASE WHEN c.expires_at > $4 THEN textsend((encode(c.value, 'escape')::bigint + $5)::text) ELSE excluded.value END, expires_at = CASE WHEN c.expires_at > $4 THEN c.expires_at ELSE excluded.expires_at END WHERE ltrim(encode(c.value, 'escape'), '0123456789') = '' AND (c.expires_at <= $4 OR encode(c.value, 'escape')::bigint + $5 <= CAST($6 AS bigint)) RETURNING value, expires_at`,
    values: (key, now) => [key, Buffer.from('1'), now + W, now, 1, LIMIT],
  },
  {
    name: 'layout int2 fixed minimal, server clock',
    columns: 'a bigint NOT NULL, expires_at bigint NOT NULL',
    sql: `INSERT INTO ${TABLE} AS c (key, a, expires_at) VALUES ($1, $2, ${NOW} + $3::bigint) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.expires_at > excluded.expires_at - $3 THEN c.a + $2 ELSE $2 END, expires_at = CASE WHEN c.expires_at > excluded.expires_at - $3 THEN c.expires_at ELSE excluded.expires_at END WHERE c.expires_at <= excluded.expires_at - $3 OR c.a <= $4 RETURNING a, expires_at, ${READING} AS now`,
    values: (key) => [key, 1, W, LIMIT - 1],
  },
  {
    name: 'layout int2 flexible-shaped plus WHERE c.a <= $5, client clock',
    columns: 'a bigint NOT NULL, expires_at bigint NOT NULL',
    sql: `INSERT INTO ${TABLE} AS c (key, a, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET a = CASE WHEN c.expires_at <= $4 THEN $2 ELSE c.a + $2 END, expires_at = CASE WHEN c.expires_at <= $4 THEN $3 ELSE c.expires_at END WHERE c.a <= $5 RETURNING a, expires_at`,
    values: (key, now) => [key, 1, now + W, now, LIMIT - 1],
  },
]

/** The layout's table made afresh and a consume that sends its statement. */
export async function layoutContender(layout: Layout, pool: Pool) {
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`)
  await pool.query(`CREATE TABLE ${TABLE} (key text COLLATE "C" PRIMARY KEY, ${layout.columns})`)
  const name = `layout-${layouts.indexOf(layout)}`
  return (key: string) =>
    pool.query({ name, text: layout.sql, values: layout.values(key, Date.now()) })
}
