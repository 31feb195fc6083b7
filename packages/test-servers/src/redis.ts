import { errorMessage, externalLifecycle, spawnedLifecycle, urlHost } from './handle.js'
import { pingRedis } from './probe.js'
import { lookup, missing, ServiceMissingError } from './require.js'
import { findBinary, SpawnedServer, type SpawnSpec } from './spawn.js'
import type { FindOptions, RedisServer, StartOptions } from './types.js'

const DEFAULT_PORT = 6379
const HOW =
  'Provide one: set REDIS_URL=redis://host:port, put redis-server on PATH (apt-get install redis-server), or run Redis on 127.0.0.1:6379.'

function redisSpec(binary: string, options: StartOptions): SpawnSpec {
  return {
    name: 'Redis',
    binary,
    // No persistence: a test server must never write dumps or block on fsync.
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    ready: (port) => pingRedis(`redis://127.0.0.1:${port}`, 500),
    readyTimeout: options.readyTimeout ?? 10_000,
    stopSignal: 'SIGTERM',
  }
}

function spawnedRedis(server: SpawnedServer): RedisServer {
  const url = `redis://${server.host}:${server.port}`
  return {
    host: server.host,
    port: server.port,
    url,
    source: 'spawned',
    ...spawnedLifecycle(server),
  }
}

/** True if `redis-server` is on PATH; otherwise prints the loud skip line (throws under CI). */
export function canStartRedis(options: FindOptions = {}): boolean {
  const found = lookup(options)
  if (findBinary('redis-server', found.env)) return true
  missing(found, 'redis-server binary', 'Put redis-server on PATH (apt-get install redis-server).')
  return false
}

/**
 * Spawns a private redis-server on a free loopback port; `stop()`/`start()` restart it on the same
 * port. Throws if no binary is on PATH (guard with `canStartRedis()`).
 */
export async function startRedis(options: StartOptions = {}): Promise<RedisServer> {
  const binary = findBinary('redis-server')
  if (!binary) {
    throw new ServiceMissingError(
      '[cellar:test-servers] redis-server is not on PATH, so startRedis() cannot spawn one (apt-get install redis-server).',
    )
  }
  return spawnedRedis(await SpawnedServer.launch(redisSpec(binary, options)))
}

/**
 * Finds Redis: REDIS_URL → a redis-server spawned from PATH → 127.0.0.1:6379. Resolves undefined
 * after a loud line when none answers; throws instead under CI=true / CELLAR_REQUIRE_SERVICES=1.
 */
export async function findRedis(options: FindOptions = {}): Promise<RedisServer | undefined> {
  const found = lookup(options)
  const envUrl = found.env.REDIS_URL
  if (envUrl) {
    if (!(await pingRedis(envUrl))) {
      return missing(found, 'Redis', `REDIS_URL=${envUrl} does not answer PING: fix or unset it.`)
    }
    const url = new URL(envUrl)
    const port = Number(url.port || DEFAULT_PORT)
    return {
      host: urlHost(url),
      port,
      url: envUrl,
      source: 'env',
      ...externalLifecycle('Redis', envUrl, 'env'),
    }
  }
  const binary = found.spawn ? findBinary('redis-server', found.env) : undefined
  if (binary) {
    try {
      return spawnedRedis(await SpawnedServer.launch(redisSpec(binary, {})))
    } catch (error) {
      found.log(`${errorMessage(error)}; trying 127.0.0.1:${DEFAULT_PORT}`)
    }
  }
  const url = `redis://127.0.0.1:${DEFAULT_PORT}`
  if (await pingRedis(url)) {
    return {
      host: '127.0.0.1',
      port: DEFAULT_PORT,
      url,
      source: 'default',
      ...externalLifecycle('Redis', url, 'default'),
    }
  }
  return missing(found, 'Redis', HOW)
}

let shared: Promise<RedisServer | undefined> | undefined

/** The process-wide Redis (found once, see `findRedis`), or undefined when skipping. */
export function useRedis(): Promise<RedisServer | undefined> {
  shared ??= findRedis()
  return shared
}
