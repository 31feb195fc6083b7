import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { findBinary, pingRedis, ServiceMissingError, servicesRequired } from '@cellar/test-servers'
import { Redis } from 'ioredis'

const HOST = '127.0.0.1'
const run = promisify(execFile)

/** A Redis Cluster of masters on loopback ports, started by this process. */
export interface RedisClusterServer {
  /** One `{ host, port }` per master: the startup nodes for an ioredis `Cluster`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>
  /** Kills every node and removes their files. Idempotent. */
  stop(): Promise<void>
}

/**
 * True when redis-server and redis-cli are on PATH. Otherwise prints a loud line and returns
 * false, or throws under CI=true / CELLAR_REQUIRE_SERVICES=1 so a missing server fails the run.
 */
export function canStartRedisCluster(): boolean {
  const missing = ['redis-server', 'redis-cli'].filter((name) => !findBinary(name))
  if (missing.length === 0) return true
  const line = `[cellar:redis] ${missing.join(' and ')} NOT FOUND on PATH — ${servicesRequired() ? 'failing' : 'SKIPPING the Redis Cluster tests'}. Install redis-server (apt-get install redis-server).`
  if (servicesRequired()) throw new ServiceMissingError(line)
  console.warn(line)
  return false
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A port that is free along with its cluster bus port (port + 10000, fixed before Redis 7). */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000)
    if (taken.has(port) || taken.has(port + 10_000)) continue
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port
  }
  throw new Error('[cellar:redis] found no free port pair for a Redis Cluster node')
}

async function clusterReady(port: number): Promise<boolean> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.cluster('INFO')
    return info.includes('cluster_state:ok')
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, attempts = 200) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`[cellar:redis] ${what} did not happen in time`)
}

/**
 * Starts `masters` cluster-enabled redis-server processes on free loopback ports (no
 * persistence, files in a temporary directory), joins them with `redis-cli --cluster create`
 * and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterServer> {
  const server = findBinary('redis-server')
  const cli = findBinary('redis-cli')
  if (!server || !cli)
    throw new ServiceMissingError('[cellar:redis] redis-server/redis-cli missing')
  const dir = mkdtempSync(join(tmpdir(), 'cellar-redis-cluster-'))
  const children: ChildProcess[] = []
  const kill = () => {
    for (const child of children) child.kill('SIGKILL')
  }
  process.once('exit', kill)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGKILL')
          }),
      ),
    )
    process.off('exit', kill)
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    const ports: number[] = []
    const taken = new Set<number>()
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken)
      taken.add(port).add(port + 10_000)
      ports.push(port)
    }
    for (const port of ports) {
      const args = [
        '--port',
        String(port),
        '--bind',
        HOST,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '5000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ]
      children.push(spawn(server, args, { stdio: 'ignore' }))
    }
    for (const port of ports) {
      await waitFor(`redis-server on ${HOST}:${port} answering`, () =>
        pingRedis(`redis://${HOST}:${port}`, 500),
      )
    }
    const addresses = ports.map((port) => `${HOST}:${port}`)
    await run(cli, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    for (const port of ports) {
      await waitFor(`cluster_state:ok on ${HOST}:${port}`, () => clusterReady(port))
    }
    return { nodes: ports.map((port) => ({ host: HOST, port })), stop }
  } catch (error) {
    await stop()
    throw error
  }
}
