import type { Socket } from 'node:net'
import { InvalidArgumentError } from '@cellar/core'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { timeCommands } from './command-watchdog.js'
import type { RedisClient, RedisStoreOptions } from './types.js'

/** The client and its lifecycle, shared by a store and every namespace made from it. */
export interface Connection {
  readonly client: RedisClient
  readonly cluster: boolean
  /** The client's own ioredis `keyPrefix`, added by ioredis to key arguments but not to SCAN. */
  readonly keyPrefix: string
  /** True when the store created the client, and so closes it. */
  readonly owned: boolean
  /** Batch each tick's writes by corking the socket (standalone; a given client only on opt-in). */
  readonly cork: boolean
  /**
   * Standalone `Redis` of this package's ioredis, without auto-pipelining: binary writes can go
   * through `sendBinary` (auto-pipelining only applies to the client's command methods).
   */
  readonly direct: boolean
  /**
   * This tick's batching state: `undefined` before its first command, `null` while its
   * commands go out directly, the corked socket once they are being held for one write.
   */
  tick: Socket | null | undefined
  /** Commands issued so far in this tick. */
  tickCommands: number
  /** Whether the last tick with commands had more than one: the next one corks at once. */
  bursting: boolean
  closed: boolean
  /**
   * Pending until a created client without offline queue is first ready: such a client refuses
   * every command until then, which would fail a store used right after construction.
   */
  warming: Promise<void> | undefined
  /** The `commandTimeout` watchdog of a created client (see `command-watchdog.ts`). */
  watchdog: NodeJS.Timeout | undefined
}

const CLIENT_OPTIONS = [
  'offlineQueue',
  'commandTimeout',
  'maxRetriesPerRequest',
  'autoPipelining',
] as const

function isClient(value: unknown): value is RedisClient {
  if (value instanceof Redis || value instanceof Cluster) return true
  // Another copy of ioredis (a different version in node_modules) fails instanceof.
  const candidate = value as { sendCommand?: unknown; isCluster?: unknown } | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.sendCommand === 'function' &&
    typeof candidate.isCluster === 'boolean'
  )
}

function keyPrefixOf(client: RedisClient): string {
  const prefix = (client.options as { keyPrefix?: unknown }).keyPrefix
  return typeof prefix === 'string' ? prefix : ''
}

function nonNegative(name: string, value: number | null | undefined): void {
  if (value === undefined || value === null) return
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `[cellar:redis] ${name} must be a non-negative number, got ${String(value)}`,
    )
  }
}

/** Adopts the given client, or creates one from options or a URL with the store's defaults. */
export function openConnection(options: RedisStoreOptions): Connection {
  const { connection } = options
  if (isClient(connection)) {
    const misplaced = CLIENT_OPTIONS.filter((name) => options[name] !== undefined)
    if (misplaced.length > 0) {
      throw new InvalidArgumentError(
        `[cellar:redis] ${misplaced.join(', ')} configure a client the store creates; set them on the ioredis instance you passed instead`,
      )
    }
    // A client you pass is never corked unless you opt in with `cork: true`. Single-buffer
    // writes (public `sendCommand` with our `Command`) need the same copy of ioredis as ours.
    const standalone = connection instanceof Redis
    return {
      client: connection,
      cluster: connection.isCluster,
      keyPrefix: keyPrefixOf(connection),
      owned: false,
      cork: !connection.isCluster && options.cork === true,
      direct: standalone && connection.options.enableAutoPipelining !== true,
      tick: undefined,
      tickCommands: 0,
      bursting: false,
      closed: false,
      warming: undefined,
      watchdog: undefined,
    }
  }
  if (
    connection !== undefined &&
    typeof connection !== 'string' &&
    typeof connection !== 'object'
  ) {
    throw new InvalidArgumentError(
      `[cellar:redis] connection must be an ioredis client, its options or a URL, got ${typeof connection}`,
    )
  }
  nonNegative('commandTimeout', options.commandTimeout)
  nonNegative('maxRetriesPerRequest', options.maxRetriesPerRequest)
  const base: RedisOptions = typeof connection === 'object' && connection !== null ? connection : {}
  const offlineQueue = options.offlineQueue ?? base.enableOfflineQueue ?? true
  const commandTimeout = options.commandTimeout ?? base.commandTimeout ?? 5_000
  const settings: RedisOptions = {
    ...base,
    enableOfflineQueue: offlineQueue,
    // The store's watchdog times commands out (no timer per command), so ioredis's own is off.
    commandTimeout: undefined,
    maxRetriesPerRequest:
      options.maxRetriesPerRequest !== undefined
        ? options.maxRetriesPerRequest
        : base.maxRetriesPerRequest !== undefined
          ? base.maxRetriesPerRequest
          : 2,
    enableAutoPipelining: options.autoPipelining ?? base.enableAutoPipelining ?? false,
  }
  const client =
    typeof connection === 'string' ? new Redis(connection, settings) : new Redis(settings)
  // Without a listener ioredis prints every connection error; failures reach callers as
  // E_BACKEND_UNAVAILABLE from the command that hit them instead.
  client.on('error', () => {})
  const opened: Connection = {
    client,
    cluster: false,
    keyPrefix: keyPrefixOf(client),
    owned: true,
    cork: options.cork !== false,
    direct: settings.enableAutoPipelining !== true,
    tick: undefined,
    tickCommands: 0,
    bursting: false,
    closed: false,
    warming: undefined,
    // 0 means "no timeout".
    watchdog: commandTimeout > 0 ? timeCommands(client, commandTimeout) : undefined,
  }
  if (!offlineQueue) {
    opened.warming = new Promise<void>((resolve) => {
      const settle = () => {
        client.off('ready', settle)
        client.off('error', settle)
        opened.warming = undefined
        resolve()
      }
      client.on('ready', settle)
      client.on('error', settle)
    })
  }
  return opened
}

function endTick(connection: Connection): void {
  const corked = connection.tick
  connection.tick = undefined
  connection.bursting = connection.tickCommands > 1
  connection.tickCommands = 0
  if (corked) corked.uncork()
}

function cork(connection: Connection): void {
  const client = connection.client as Redis
  // Not ready: commands go to the offline queue, not the socket.
  if (client.status !== 'ready' || client.stream === undefined) return
  client.stream.cork()
  connection.tick = client.stream
}

/**
 * Call before each command. Commands of one tick are held (the socket corked) and leave in one
 * write when the tick's queued callbacks have run (`process.nextTick`, no event-loop turn): one
 * syscall per burst, which the server reads and answers together. The first command of a tick
 * is held too when the previous tick was a burst; after a tick with a single command it is
 * written at once, so sequential use pays nothing for the batching.
 */
export function batchWrites(connection: Connection): void {
  connection.tickCommands++
  const tick = connection.tick
  if (tick === undefined) {
    connection.tick = null
    process.nextTick(endTick, connection)
    if (connection.bursting) cork(connection)
    return
  }
  if (tick === null) cork(connection)
}

/** Marks the connection closed and quits the client if the store created it. Idempotent. */
export async function closeConnection(connection: Connection): Promise<void> {
  if (connection.closed) return
  connection.closed = true
  if (!connection.owned) return
  try {
    await quitClient(connection.client)
  } finally {
    // Only now: the watchdog also times out the QUIT of a server that stopped answering.
    clearInterval(connection.watchdog)
    connection.watchdog = undefined
  }
}

async function quitClient(client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    // Resolve once the socket is really gone, so a closed store leaves nothing holding the loop.
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
    try {
      await client.quit()
      await ended
      return
    } catch {
      // fall through: drop the connection without the goodbye
    }
  }
  // Not ready (connecting, reconnecting, down): QUIT would wait in the offline queue.
  const parked = client.status === 'reconnecting'
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
  client.disconnect()
  if (parked && client.status !== 'end') {
    // ioredis clears the reconnect timer but never emits 'end' nor settles queued commands for
    // a client that was waiting to reconnect (https://github.com/redis/ioredis/pull/2169):
    // finish the close the way its own close handler does.
    const internals = client as unknown as {
      setStatus?: (status: string) => void
      flushQueue?: (error: Error) => void
    }
    internals.setStatus?.('end')
    internals.flushQueue?.(new Error('Connection is closed.'))
  }
  // A connecting client ends once its socket is torn down; wait for it, so nothing holds the loop.
  if (client.status !== 'end') await ended
}
