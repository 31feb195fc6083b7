import {
  type DriverContext,
  type DriverEnv,
  InvalidArgumentError,
  type Serializer,
  type StoreDriver,
} from '@cellar/core'
import { UnknownStoreError } from './errors.js'
import { type CacheManager, createCache } from './manager.js'

// Which package provides each driver name, for the error when it was not passed in.
const PACKAGES: Readonly<Record<string, string>> = {
  memory: '@cellar/memory',
  file: '@cellar/file',
  redis: '@cellar/redis',
  memcached: '@cellar/memcached',
  database: '@cellar/knex',
  knex: '@cellar/knex',
  null: '@cellar/core',
}

/** Options of `cacheFromEnv`. */
export interface CacheFromEnvOptions extends DriverContext {
  /** The drivers the app installed, e.g. `[memoryDriver, redisDriver]`. */
  readonly drivers: readonly StoreDriver[]
  /**
   * Where variables are read.
   * @default process.env
   */
  readonly env?: DriverEnv
  /** Turns values into bytes on byte stores (default: MessagePack). */
  readonly serializer?: Serializer
}

/** The variables `cacheFromEnv` reads for itself (drivers read their own). */
export const CACHE_ENV = [
  'CACHE_STORE',
  'CACHE_CONNECTION',
  'CACHE_DRIVER',
  'CACHE_PREFIX',
  'CACHE_TTL',
] as const

function selected(env: DriverEnv): { name: string; variable: string } {
  for (const variable of ['CACHE_STORE', 'CACHE_CONNECTION', 'CACHE_DRIVER'] as const) {
    const value = env[variable]?.trim()
    if (value) return { name: value.toLowerCase(), variable }
  }
  return { name: 'memory', variable: 'CACHE_STORE (unset: memory)' }
}

function ttlSeconds(env: DriverEnv): number | undefined {
  const text = env.CACHE_TTL?.trim()
  if (text === undefined || text === '') return undefined
  const seconds = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(seconds)) {
    throw new InvalidArgumentError(
      `[cellar:cache] CACHE_TTL must be a number of seconds (as in Laravel), got ${JSON.stringify(env.CACHE_TTL)}`,
    )
  }
  return seconds * 1000
}

/**
 * The cache facade configured from the environment, Laravel style: `CACHE_STORE` (or
 * `CACHE_CONNECTION`, `CACHE_DRIVER`) picks the driver, default `memory`; `CACHE_PREFIX` and
 * `CACHE_TTL` (seconds) apply to every key; each driver reads its own variables (`REDIS_URL`,
 * `MEMCACHED_SERVERS`, `CACHE_FILE_PATH`, `DATABASE_URL` or the `knex` you pass — the app's own
 * database). Bad values fail here, naming the variable.
 */
export function cacheFromEnv(options: CacheFromEnvOptions): CacheManager<string> {
  const env = options.env ?? process.env
  const { name, variable } = selected(env)
  const driver = options.drivers.find((candidate) => candidate.name === name)
  if (driver === undefined) {
    const known = options.drivers.map((candidate) => candidate.name)
    const install = PACKAGES[name]
    throw new UnknownStoreError(
      install === undefined
        ? `[cellar:cache] ${variable}=${name} names no known cache driver (passed in: ${known.join(', ') || 'none'})`
        : `[cellar:cache] ${variable}=${name} needs the "${name}" driver: install ${install} and pass its ${name}Driver to cacheFromEnv (passed in: ${known.join(', ') || 'none'})`,
      known,
    )
  }
  const ttl = ttlSeconds(env)
  const prefix = env.CACHE_PREFIX?.trim()
  const context: DriverContext = {
    ...(options.knex !== undefined && { knex: options.knex }),
    ...(options.client !== undefined && { client: options.client }),
  }
  const store = driver.create(env, context)
  return createCache({
    default: name,
    stores: { [name]: store },
    ...(prefix ? { prefix } : {}),
    ...(ttl !== undefined && { ttl }),
    ...(options.serializer && { serializer: options.serializer }),
  })
}
