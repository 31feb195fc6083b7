import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { PROBE_TIMEOUT_MS, pingRedis } from './probe.js'
import { startRedis } from './redis.js'
import { lookup, missing, ServiceMissingError } from './require.js'
import { findBinary, SpawnedServer } from './spawn.js'
import type { FindOptions, RedisSentinelServer, SentinelStartOptions } from './types.js'

const HOST = '127.0.0.1'

/**
 * True if `redis-server` and `redis-sentinel` are both on PATH; otherwise prints the loud skip
 * line (throws under CI=true / CELLAR_REQUIRE_SERVICES=1) and returns false.
 */
export function canStartRedisSentinel(options: FindOptions = {}): boolean {
  const found = lookup(options)
  const absent = ['redis-server', 'redis-sentinel'].filter((name) => !findBinary(name, found.env))
  if (absent.length === 0) return true
  missing(
    found,
    `${absent.join(' and ')} binary`,
    'Put redis-server and redis-sentinel on PATH (apt-get install redis-server redis-sentinel).',
  )
  return false
}

/** Resolves true once the sentinel on `port` answers PING and knows the master's address. */
async function sentinelReady(port: number, name: string, masterPort: number): Promise<boolean> {
  if (!(await pingRedis(`redis://${HOST}:${port}`, 500))) return false
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    const address = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as
      | string[]
      | null
    return address?.[1] === String(masterPort)
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/**
 * Spawns a private redis-server master and a `redis-sentinel` monitoring it (quorum 1), each on
 * a free loopback port with no persistence; resolves once the sentinel reports the master's
 * address. `stop()` stops both. Throws if a binary is missing (guard with
 * `canStartRedisSentinel()`).
 */
export async function startRedisSentinel(
  options: SentinelStartOptions = {},
): Promise<RedisSentinelServer> {
  const binary = findBinary('redis-sentinel')
  if (!binary) {
    throw new ServiceMissingError(
      '[cellar:test-servers] redis-sentinel is not on PATH, so startRedisSentinel() cannot spawn one (apt-get install redis-sentinel).',
    )
  }
  const name = options.name ?? 'cellar'
  const master = await startRedis()
  let sentinel: SpawnedServer
  try {
    sentinel = await SpawnedServer.launch({
      name: 'Sentinel',
      binary,
      // Sentinel rewrites its config file as it learns the topology, so each one gets its own.
      args: (port, dir) => {
        const file = join(dir, 'sentinel.conf')
        writeFileSync(
          file,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `sentinel monitor ${name} ${HOST} ${master.port} 1`,
            `sentinel down-after-milliseconds ${name} 5000`,
            '',
          ].join('\n'),
        )
        return [file]
      },
      ready: (port) => sentinelReady(port, name, master.port),
      readyTimeout: options.readyTimeout ?? 10_000,
      stopSignal: 'SIGTERM',
    })
  } catch (error) {
    await master.stop()
    throw error
  }
  return {
    name,
    sentinels: [{ host: sentinel.host, port: sentinel.port }],
    master,
    stop: async () => {
      await sentinel.stop()
      await master.stop()
    },
  }
}
