import {
  type Bus,
  type BusListener,
  type BusStatus,
  InvalidArgumentError,
  type Store,
  StoreClosedError,
} from '@cellar/core'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { toCellarError } from './errors.js'
import { RedisStore } from './redis-store.js'
import type { RedisClient } from './types.js'

/** Options of `new RedisBus(options)`. */
export interface RedisBusOptions {
  /**
   * The client to publish with (a `Redis` or `Cluster`, never closed by the bus; its subscriber
   * is a duplicate the bus owns), or the options or URL of a client the bus creates and closes.
   * @default 'redis://127.0.0.1:6379'
   */
  connection?: RedisClient | RedisOptions | string
  /**
   * Sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+): on a Cluster a message goes only to the
   * shard that owns its channel instead of every node. `'auto'` asks the server once.
   * @default 'auto'
   */
  sharded?: boolean | 'auto'
}

function isClient(value: unknown): value is RedisClient {
  return value instanceof Redis || value instanceof Cluster
}

/**
 * The `Bus` protocol on Redis pub/sub: one subscriber connection per bus, re-subscribed after
 * every reconnect; status goes `down` when that connection drops and `up` once subscribed again.
 */
export class RedisBus implements Bus {
  readonly #publisher: RedisClient
  readonly #owned: boolean
  readonly #subscriber: RedisClient
  readonly #channels = new Map<string, Set<BusListener>>()
  readonly #statusListeners = new Set<(status: BusStatus) => void>()
  readonly #shardedOption: boolean | 'auto'
  #sharded: Promise<boolean> | undefined
  // The answer once known, so a publish sends its command in the same tick as the call.
  #shardedKnown: boolean | undefined
  readonly #clusterShards: boolean
  #connected = false
  #closed = false

  constructor(options: RedisBusOptions = {}) {
    const { connection } = options
    const sharded = options.sharded ?? 'auto'
    if (sharded !== 'auto' && typeof sharded !== 'boolean') {
      throw new InvalidArgumentError(`[cellar:redis] sharded must be true, false or 'auto'`)
    }
    this.#shardedOption = sharded
    if (isClient(connection)) {
      this.#publisher = connection
      this.#owned = false
    } else {
      this.#publisher =
        connection === undefined
          ? new Redis('redis://127.0.0.1:6379')
          : typeof connection === 'string'
            ? new Redis(connection)
            : new Redis(connection)
      this.#publisher.on('error', () => {})
      this.#owned = true
    }
    // We re-subscribe ourselves on `ready`, so `up` is only announced once that has happened.
    this.#subscriber =
      this.#publisher instanceof Cluster
        ? this.#publisher.duplicate(undefined, { shardedSubscribers: true })
        : this.#publisher.duplicate({ autoResubscribe: false, enableOfflineQueue: true })
    // ioredis before 5.5 has no sharded subscribers on a Cluster: SSUBSCRIBE would only see MOVED.
    this.#clusterShards =
      this.#subscriber instanceof Cluster &&
      (this.#subscriber as unknown as { shardedSubscribers?: unknown }).shardedSubscribers !==
        undefined
    if (sharded === true && this.#subscriber instanceof Cluster && !this.#clusterShards) {
      this.#subscriber.disconnect()
      throw new InvalidArgumentError(
        '[cellar:redis] sharded: true on a Cluster needs an ioredis with sharded subscribers (5.5 or newer)',
      )
    }
    if (sharded !== 'auto') this.#shardedKnown = sharded
    else if (this.#publisher instanceof Cluster) this.#shardedKnown = this.#clusterShards
    this.#subscriber.on('error', () => {})
    this.#subscriber.on('close', () => this.#status(false))
    this.#subscriber.on('ready', () => {
      this.#resubscribe().catch(() => {})
    })
    const deliver = (channel: string | Buffer, message: string | Buffer) => {
      const listeners = this.#channels.get(String(channel))
      if (listeners === undefined) return
      for (const listener of listeners) {
        try {
          listener(String(message))
        } catch {
          // One listener's failure must not stop the others.
        }
      }
    }
    this.#subscriber.on('message', deliver)
    this.#subscriber.on('smessage', deliver)
  }

  /** True while the subscriber connection is up and subscribed. */
  get connected(): boolean {
    return this.#connected
  }

  /** Whether this bus uses sharded pub/sub (decided once, from the option or the server). */
  sharded(): Promise<boolean> {
    this.#sharded ??= this.#detectSharded().then((sharded) => {
      this.#shardedKnown = sharded
      return sharded
    })
    return this.#sharded
  }

  /** Publishes `message` on `channel`; resolves once Redis has accepted it. */
  publish(channel: string, message: string): Promise<void> {
    if (this.#closed) return Promise.reject(closedError())
    const sharded = this.#shardedKnown
    if (sharded === undefined) return this.sharded().then(() => this.publish(channel, message))
    const sent: Promise<unknown> = sharded
      ? this.#publisher.spublish(channel, message)
      : this.#publisher.publish(channel, message)
    return sent.then(
      () => {},
      (error: unknown) => {
        throw toCellarError(error, 'publish', channel)
      },
    )
  }

  /**
   * True when `store` is a `RedisStore` on this bus's own publishing client, a standalone one
   * (not a Cluster: a key's node and a channel's node differ) with its offline queue and without
   * auto-pipelining. Its `set` (one SET), `delete` and `deleteMany` (one UNLINK) then send their
   * command in the call's own tick, and a publish made after it goes out behind it on the same
   * connection: Redis runs the write first, so no subscriber hears of it before it is visible.
   * With the offline queue both wait in order while the client (re)connects; ioredis re-sends
   * unanswered commands in order after a reconnect.
   */
  orderedWith(store: Store<unknown>): boolean {
    const client = this.#publisher
    return (
      !this.#closed &&
      client instanceof Redis &&
      client.options.enableOfflineQueue !== false &&
      client.options.enableAutoPipelining !== true &&
      store instanceof RedisStore &&
      store.client === client
    )
  }

  /** Calls `listener` for each message on `channel`; resolves, once subscribed, an unsubscribe. */
  async subscribe(channel: string, listener: BusListener): Promise<() => Promise<void>> {
    this.#assertOpen()
    let listeners = this.#channels.get(channel)
    if (listeners === undefined) {
      listeners = new Set()
      this.#channels.set(channel, listeners)
      try {
        await this.#subscribeTo([channel])
      } catch (error) {
        this.#channels.delete(channel)
        throw toCellarError(error, 'subscribe', channel)
      }
    }
    listeners.add(listener)
    if (!this.#connected && this.#subscriber.status === 'ready') this.#status(true)
    return async () => {
      const set = this.#channels.get(channel)
      if (set === undefined || !set.delete(listener) || set.size > 0) return
      this.#channels.delete(channel)
      if (this.#closed) return
      if (await this.sharded()) await this.#subscriber.sunsubscribe(channel)
      else await this.#subscriber.unsubscribe(channel)
    }
  }

  /** Calls `listener` on every change of status; returns a function that removes it. */
  onStatus(listener: (status: BusStatus) => void): () => void {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  /** Closes the subscriber, and the publisher when the bus created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#status(false)
    this.#channels.clear()
    this.#subscriber.disconnect()
    if (this.#owned) await this.#publisher.quit().catch(() => this.#publisher.disconnect())
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #detectSharded(): Promise<boolean> {
    if (this.#shardedOption !== 'auto') return this.#shardedOption
    if (this.#publisher instanceof Cluster) return this.#clusterShards
    try {
      const reply = (await this.#publisher.call('COMMAND', 'INFO', 'SPUBLISH')) as unknown[]
      return Array.isArray(reply) && reply[0] !== null
    } catch {
      return false
    }
  }

  async #subscribeTo(channels: string[]): Promise<void> {
    if (channels.length === 0) return
    if (await this.sharded()) {
      // A Cluster routes SSUBSCRIBE by slot, one channel per call.
      for (const channel of channels) await this.#subscriber.ssubscribe(channel)
    } else {
      await this.#subscriber.subscribe(...channels)
    }
  }

  async #resubscribe(): Promise<void> {
    if (this.#closed) return
    // A Cluster's sharded subscribers re-subscribe on their own; a standalone client does not.
    if (!(this.#subscriber instanceof Cluster)) await this.#subscribeTo([...this.#channels.keys()])
    if (this.#channels.size > 0) this.#status(true)
  }

  #status(up: boolean): void {
    if (this.#connected === up) return
    this.#connected = up
    for (const listener of this.#statusListeners) {
      try {
        listener(up ? 'up' : 'down')
      } catch {
        // A listener must not break the bus.
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError()
  }
}

function closedError(): StoreClosedError {
  return new StoreClosedError('[cellar:redis] the bus is closed')
}
