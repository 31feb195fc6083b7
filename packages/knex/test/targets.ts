import { useMysql, usePostgres } from '@cellar/test-servers'
import type { Knex } from 'knex'
import { afterAll } from 'vitest'
import { openKnex, removeTempDirs, type Target, tempDir } from './helpers.js'

/** One entry per dialect; `target` is undefined when the server is missing (loud skip). */
export interface NamedTarget {
  readonly name: string
  readonly target: Target | undefined
}

/**
 * The three dialects for a test file: a SQLite file, a fresh PostgreSQL database and a fresh
 * MariaDB database; everything opened through `open` is destroyed after the file.
 */
export async function useTargets(): Promise<{
  targets: NamedTarget[]
  open: (
    target: Target,
    pool?: Knex.PoolConfig,
    extra?: Partial<Knex.Config>,
    journal?: 'wal' | 'delete',
  ) => Knex
}> {
  const pg = await usePostgres()
  const mysql = await useMysql()
  const opened: Knex[] = []
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((knex) => knex.destroy()))
    await Promise.all([pg?.dispose(), mysql?.dispose()])
    removeTempDirs()
  })
  return {
    targets: [
      { name: 'SQLite', target: { kind: 'sqlite', filename: `${tempDir('t')}/cache.db` } },
      { name: 'PostgreSQL', target: pg && { kind: 'pg', database: pg } },
      { name: 'MariaDB', target: mysql && { kind: 'mysql', database: mysql } },
    ],
    open: (target, pool, extra, journal) => {
      const knex = openKnex(target, pool, extra, journal)
      opened.push(knex)
      return knex
    },
  }
}
