import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreTraceContext } from '@cellar/core'
import { type SqlDatabase, useMysql, usePostgres } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'
import { afterAll } from 'vitest'

/** A knex target: a SQLite file, or a fresh server database. */
export type Target =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'pg' | 'mysql'; database: SqlDatabase }

/** A knex config for one target. */
export function knexConfig(target: Target): Knex.Config {
  if (target.kind === 'sqlite') {
    return {
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      useNullAsDefault: true,
    }
  }
  return {
    client: target.kind === 'pg' ? 'pg' : 'mysql2',
    connection: { ...target.database.connection },
    pool: { min: 0, max: 4 },
  }
}

/** The three dialects (undefined when a server is missing); everything opened is closed after. */
export async function useTargets(): Promise<{
  targets: Array<{ name: string; target: Target | undefined }>
  open: (target: Target) => Knex
}> {
  const [pg, mysql] = await Promise.all([usePostgres(), useMysql()])
  const dir = mkdtempSync(join(tmpdir(), 'cellar-generational-'))
  const opened: Knex[] = []
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((knex) => knex.destroy()))
    await Promise.all([pg?.dispose(), mysql?.dispose()])
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    targets: [
      { name: 'SQLite', target: { kind: 'sqlite', filename: join(dir, 'db.sqlite') } },
      { name: 'PostgreSQL', target: pg && { kind: 'pg', database: pg } },
      { name: 'MariaDB', target: mysql && { kind: 'mysql', database: mysql } },
    ],
    open: (target) => {
      const knex = createKnex(knexConfig(target))
      opened.push(knex)
      return knex
    },
  }
}

/** Counts the gateway's store calls (through the `cellar:store` tracing channel) while `run` runs. */
export async function countStoreCalls<R>(
  run: () => Promise<R>,
): Promise<{ result: R; calls: StoreTraceContext[] }> {
  const calls: StoreTraceContext[] = []
  const onStart = (message: unknown) => calls.push(message as StoreTraceContext)
  subscribe('tracing:cellar:store:start', onStart)
  try {
    return { result: await run(), calls }
  } finally {
    unsubscribe('tracing:cellar:store:start', onStart)
  }
}

/** Counts the SQL statements knex sends while `run` runs. */
export async function countQueries<R>(
  knex: Knex,
  run: () => Promise<R>,
): Promise<{ result: R; sql: string[] }> {
  const sql: string[] = []
  const onQuery = (query: { sql: string }) => sql.push(query.sql)
  knex.on('query', onQuery)
  try {
    return { result: await run(), sql }
  } finally {
    knex.off('query', onQuery)
  }
}
