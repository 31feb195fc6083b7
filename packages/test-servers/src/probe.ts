import { createConnection } from 'node:net'
import { Redis } from 'ioredis'

/** How long a probe waits before calling a server absent. */
export const PROBE_TIMEOUT_MS = 1500

/** Resolves true if a Redis at `url` answers PING within the probe timeout. */
export async function pingRedis(url: string, timeout = PROBE_TIMEOUT_MS): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout: timeout,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  // Without a listener ioredis prints "Unhandled error event" for a refused connection.
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** Resolves true if a memcached at host:port answers the text `version` command in time. */
export function pingMemcached(host: string, port: number, timeout = PROBE_TIMEOUT_MS) {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host, port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeout, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('version\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('VERSION '))
    })
  })
}
