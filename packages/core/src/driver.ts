import { InvalidArgumentError } from './errors.js'
import { NullStore } from './null-store.js'
import type { Store } from './store.js'

/** Environment variables as `process.env` holds them. */
export type DriverEnv = Readonly<Record<string, string | undefined>>

/** What a driver may receive besides the environment (objects an app already holds). */
export interface DriverContext {
  /** The application's own knex instance, for the SQL store (never a hidden database). */
  readonly knex?: unknown
  /** An existing client (e.g. an ioredis instance) the driver should use instead of a URL. */
  readonly client?: unknown
}

/**
 * Builds a store from environment variables: how the facade's `cacheFromEnv` turns
 * `CACHE_STORE=redis` into a `RedisStore` without importing `@cellar/redis` itself. Each store
 * package exports one (`redisDriver`, `memoryDriver`, …).
 */
export interface StoreDriver {
  /** The `CACHE_STORE` value that selects it, e.g. `'redis'`. */
  readonly name: string
  /** The package that exports it, named in errors when it is missing. */
  readonly packageName: string
  /** Builds the store; throws `E_INVALID_ARGUMENT` naming the variable when one is malformed. */
  create(env: DriverEnv, context?: DriverContext): Store<Uint8Array> | Store<unknown>
}

/** Reads a variable that must be a URL; throws naming the variable when it is not. */
export function envUrl(env: DriverEnv, name: string): URL | undefined {
  const text = env[name]
  if (text === undefined || text === '') return undefined
  try {
    return new URL(text)
  } catch (cause) {
    throw new InvalidArgumentError(`[cellar] ${name} must be a URL, got ${JSON.stringify(text)}`, {
      cause,
    })
  }
}

/** `CACHE_STORE=null`: a store that caches nothing. */
export const nullDriver: StoreDriver = {
  name: 'null',
  packageName: '@cellar/core',
  create: () => new NullStore(),
}
