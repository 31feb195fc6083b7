import { fileURLToPath } from 'node:url'

/** Everything the demo reads from the environment, resolved to plain values. */
export interface DemoConfig {
  /** HTTP port; `0` picks a free one. */
  port: number
  /** Interface to listen on. */
  host: string
  /** SQLite file (created on start) or `':memory:'`; unused when `databaseUrl` is set. */
  databaseFile: string
  /** `postgres://…`: PostgreSQL as the database instead of SQLite. */
  databaseUrl: string | undefined
}

const appDir = fileURLToPath(new URL('..', import.meta.url))

/** The default SQLite file, under the app's own `.data/` directory (git-ignored). */
export const DEFAULT_DATABASE_FILE = `${appDir}.data/demo.sqlite`

/**
 * Reads `PORT` (default 3000), `HOST` (default 127.0.0.1), `SQLITE_FILE` (default
 * `.data/demo.sqlite`, or `:memory:`) and `DATABASE_URL` (PostgreSQL). The cache reads its own
 * variables (`CACHE_STORE`, `REDIS_URL`, …) through `cacheFromEnv`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got ${JSON.stringify(env.PORT)}`)
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    databaseFile: env.SQLITE_FILE || DEFAULT_DATABASE_FILE,
    databaseUrl: env.DATABASE_URL || undefined,
  }
}
