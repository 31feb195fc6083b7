import { errorMessage, externalLifecycle, spawnedLifecycle } from './handle.js'
import { pingMemcached } from './probe.js'
import { lookup, missing, ServiceMissingError } from './require.js'
import { findBinary, SpawnedServer, type SpawnSpec } from './spawn.js'
import type { FindOptions, MemcachedServer, StartOptions } from './types.js'

const DEFAULT_PORT = 11211
const HOW =
  'Provide one: set MEMCACHED_SERVERS=host:port, put memcached on PATH (apt-get install memcached), or run memcached on 127.0.0.1:11211.'

function memcachedSpec(binary: string, options: StartOptions): SpawnSpec {
  // memcached refuses to run as root unless told which user to run as.
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : []
  return {
    name: 'Memcached',
    binary,
    args: (port) => [
      '-p',
      String(port),
      '-l',
      '127.0.0.1',
      '-U',
      '0',
      ...user,
      ...(options.args ?? []),
    ],
    ready: (port) => pingMemcached('127.0.0.1', port, 500),
    readyTimeout: options.readyTimeout ?? 10_000,
    // SIGTERM takes memcached about a second (its maintenance threads sleep); it keeps no data.
    stopSignal: 'SIGKILL',
  }
}

function spawnedMemcached(server: SpawnedServer): MemcachedServer {
  const servers = `${server.host}:${server.port}`
  return {
    host: server.host,
    port: server.port,
    servers,
    source: 'spawned',
    ...spawnedLifecycle(server),
  }
}

/** Splits `host:port[,host:port]` (commas or spaces) into endpoints; the port defaults to 11211. */
export function parseServers(list: string): { host: string; port: number }[] {
  return list
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry)
      return { host: match?.[1] || '127.0.0.1', port: Number(match?.[2] ?? DEFAULT_PORT) }
    })
}

/** True if `memcached` is on PATH; otherwise prints the loud skip line (throws under CI). */
export function canStartMemcached(options: FindOptions = {}): boolean {
  const found = lookup(options)
  if (findBinary('memcached', found.env)) return true
  missing(found, 'memcached binary', 'Put memcached on PATH (apt-get install memcached).')
  return false
}

/**
 * Spawns a private memcached on a free loopback port; `stop()`/`start()` restart it on the same
 * port. Throws if no binary is on PATH (guard with `canStartMemcached()`).
 */
export async function startMemcached(options: StartOptions = {}): Promise<MemcachedServer> {
  const binary = findBinary('memcached')
  if (!binary) {
    throw new ServiceMissingError(
      '[cellar:test-servers] memcached is not on PATH, so startMemcached() cannot spawn one (apt-get install memcached).',
    )
  }
  return spawnedMemcached(await SpawnedServer.launch(memcachedSpec(binary, options)))
}

/**
 * Finds memcached: MEMCACHED_SERVERS → a memcached spawned from PATH → 127.0.0.1:11211. Resolves
 * undefined after a loud line when none answers; throws instead under CI / CELLAR_REQUIRE_SERVICES=1.
 */
export async function findMemcached(
  options: FindOptions = {},
): Promise<MemcachedServer | undefined> {
  const found = lookup(options)
  const envServers = found.env.MEMCACHED_SERVERS?.trim()
  if (envServers) {
    const endpoints = parseServers(envServers)
    for (const { host, port } of endpoints) {
      if (!(await pingMemcached(host, port))) {
        return missing(
          found,
          'memcached',
          `MEMCACHED_SERVERS=${envServers}: ${host}:${port} does not answer: fix or unset it.`,
        )
      }
    }
    const first = endpoints[0]!
    return {
      ...first,
      servers: envServers,
      source: 'env',
      ...externalLifecycle('Memcached', envServers, 'env'),
    }
  }
  const binary = found.spawn ? findBinary('memcached', found.env) : undefined
  if (binary) {
    try {
      return spawnedMemcached(await SpawnedServer.launch(memcachedSpec(binary, {})))
    } catch (error) {
      found.log(`${errorMessage(error)}; trying 127.0.0.1:${DEFAULT_PORT}`)
    }
  }
  if (await pingMemcached('127.0.0.1', DEFAULT_PORT)) {
    const servers = `127.0.0.1:${DEFAULT_PORT}`
    return {
      host: '127.0.0.1',
      port: DEFAULT_PORT,
      servers,
      source: 'default',
      ...externalLifecycle('Memcached', servers, 'default'),
    }
  }
  return missing(found, 'memcached', HOW)
}

let shared: Promise<MemcachedServer | undefined> | undefined

/** The process-wide memcached (found once, see `findMemcached`), or undefined when skipping. */
export function useMemcached(): Promise<MemcachedServer | undefined> {
  shared ??= findMemcached()
  return shared
}
