import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SqlDatabase } from '@cellar/test-servers'
import createKnex, { type Knex } from 'knex'

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value)
export const randomPrefix = (label: string): string =>
  `cellar-test:knex:${label}:${randomBytes(6).toString('hex')}:`

const dirs: string[] = []

/** A fresh temporary directory, removed by `removeTempDirs`. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cellar-knex-${label}-`))
  dirs.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A knex config for one of the three dialects. */
export type Target =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'pg' | 'mysql'; database: SqlDatabase }

export function knexConfig(target: Target, pool?: Knex.PoolConfig): Knex.Config {
  if (target.kind === 'sqlite') {
    return {
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      useNullAsDefault: true,
      ...(pool && { pool }),
    }
  }
  return {
    client: target.kind === 'pg' ? 'pg' : 'mysql2',
    connection: { ...target.database.connection },
    pool: pool ?? { min: 0, max: 4 },
    acquireConnectionTimeout: 10_000,
  }
}

type Done = (error?: Error) => void

/**
 * Opens a knex instance on the target; SQLite files get WAL (unless told `delete`, SQLite's
 * default rollback journal), as a multi-process app would.
 */
export function openKnex(
  target: Target,
  pool?: Knex.PoolConfig,
  extra: Partial<Knex.Config> = {},
  journal: 'wal' | 'delete' = 'wal',
): Knex {
  const config = { ...knexConfig(target, pool), ...extra }
  // DELETE is SQLite's default for a new file: nothing to set (switching needs exclusive access).
  if (target.kind === 'sqlite' && target.filename !== ':memory:' && journal === 'wal') {
    const after = pool?.afterCreate as ((connection: unknown, done: Done) => void) | undefined
    config.pool = {
      ...config.pool,
      afterCreate: (connection: { pragma(sql: string): unknown }, done: Done) => {
        connection.pragma('journal_mode = WAL')
        if (after) after(connection, done)
        else done()
      },
    }
  }
  return createKnex(config)
}
