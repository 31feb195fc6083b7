import { envUrl, InvalidArgumentError, type StoreDriver } from '@cellar/core'
import type { Knex } from 'knex'
import { KnexStore } from './store.js'

const CLIENTS: Readonly<Record<string, string>> = {
  'postgres:': 'pg',
  'postgresql:': 'pg',
  'mysql:': 'mysql2',
  'mariadb:': 'mysql2',
}

/**
 * `CACHE_STORE=database`: a `KnexStore` on the application's own database — the knex instance
 * the app passes (`context.knex`, never destroyed by the store), else `DATABASE_URL`
 * (`postgres://`, `mysql://`, `mariadb://`, or `sqlite:///path/to/file.db`). Never a hidden
 * in-memory database: with neither, it refuses to start.
 */
export const knexDriver: StoreDriver = {
  name: 'database',
  packageName: '@cellar/knex',
  create(env, context) {
    if (context?.knex !== undefined) {
      return new KnexStore({ knex: context.knex as Knex, autoCreateTable: true })
    }
    const url = envUrl(env, 'DATABASE_URL')
    if (url === undefined) {
      throw new InvalidArgumentError(
        '[cellar:knex] CACHE_STORE=database needs the application database: set DATABASE_URL or pass your knex instance to cacheFromEnv({ knex })',
      )
    }
    if (url.protocol === 'sqlite:') {
      const filename = decodeURIComponent(url.pathname)
      return new KnexStore({
        knex: { client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true },
        autoCreateTable: true,
      })
    }
    const client = CLIENTS[url.protocol]
    if (client === undefined) {
      throw new InvalidArgumentError(
        `[cellar:knex] DATABASE_URL must be postgres://, mysql://, mariadb:// or sqlite:///file, got ${JSON.stringify(env.DATABASE_URL)}`,
      )
    }
    const connection =
      url.protocol === 'mariadb:' ? url.href.replace(/^mariadb:/, 'mysql:') : url.href
    return new KnexStore({ knex: { client, connection }, autoCreateTable: true })
  },
}
