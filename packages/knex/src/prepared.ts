import type { Knex } from 'knex'
import type { Exec } from './types.js'

/** The slice of better-sqlite3's API the fast path uses. */
interface Statement {
  readonly reader: boolean
  all(params: readonly unknown[]): unknown[]
  run(params: readonly unknown[]): { changes: number }
}

interface Database {
  prepare(sql: string): Statement
}

interface PoolClient {
  acquireConnection(): Promise<Database>
  releaseConnection(connection: Database): Promise<unknown>
}

/**
 * Runs statements on better-sqlite3 connections borrowed from knex's pool, caching one prepared
 * statement per SQL text and connection. knex itself prepares every query anew and builds a
 * query object per call, which costs several times the statement itself on SQLite.
 * Results have knex's raw shapes: rows for readers, `{ changes }` for writes.
 */
export function preparedExec(knex: Knex): Exec {
  const client = knex.client as unknown as PoolClient
  const cache = new WeakMap<Database, Map<string, Statement>>()
  return async (sql, bindings) => {
    const connection = await client.acquireConnection()
    try {
      let statements = cache.get(connection)
      if (statements === undefined) {
        statements = new Map()
        cache.set(connection, statements)
      }
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = connection.prepare(sql)
        statements.set(sql, statement)
      }
      return statement.reader ? statement.all(bindings) : statement.run(bindings)
    } finally {
      await client.releaseConnection(connection)
    }
  }
}
