import type { Ttl } from '@cellar/core'
import type { Cluster, Redis, RedisOptions } from 'ioredis'

/** An ioredis client the store can run on: a standalone (or Sentinel) `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster

/** Options of `new RedisStore(options)`; every one has a default. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` instance (never closed by the store), or the options or URL
   * of a standalone client the store creates and closes.
   * @default 'redis://127.0.0.1:6379'
   */
  connection?: RedisClient | RedisOptions | string
  /**
   * Every key of this store lives under this prefix; `clear()` removes only keys under it.
   * An empty prefix makes `clear()` remove every cache key of the database.
   * @default 'cellar:'
   */
  prefix?: string
  /**
   * Lock holder keys and fencing counters live under this prefix, outside the cache keys, so
   * `clear()` never releases a lock nor resets a fencing counter.
   * @default 'cellar-lock:'
   */
  lockPrefix?: string
  /**
   * TTL used when a write omits one; `null` keeps entries until evicted or deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * Longest key accepted, in UTF-8 bytes, not counting the prefix.
   * @default Infinity (Redis itself allows 512 MB)
   */
  maxKeyLength?: number
  /**
   * Largest value accepted, in bytes; larger writes throw `E_VALUE_TOO_LARGE`.
   * @default 536_870_912 (Redis's 512 MB string limit)
   */
  maxValueSize?: number
  /**
   * Declare the store persistent (`capabilities.persistent`), for a Redis with AOF/RDB that
   * you rely on to keep entries across restarts.
   * @default false
   */
  persistent?: boolean
  /**
   * Declare `capabilities.evicts`: whether Redis may drop keys before their TTL. Leave it false
   * only when the server cannot evict: `maxmemory 0` (no limit) or `maxmemory-policy
   * noeviction`. Every other policy (`allkeys-*`, and `volatile-*`, which evicts keys that have
   * a TTL: cache entries, counters with a window) can; `evictionPolicy()` reads the server's.
   * @default false
   */
  evicts?: boolean
  /**
   * Created clients only: queue commands issued while disconnected and send them on reconnect
   * (ioredis `enableOfflineQueue`). `false` fails them at once with `E_BACKEND_UNAVAILABLE`.
   * @default true
   */
  offlineQueue?: boolean
  /**
   * Created clients only: a command that has no reply after this many milliseconds fails with
   * `E_BACKEND_UNAVAILABLE`; `0` waits forever. Enforced by one watchdog timer per client
   * (not ioredis's per-command timer), so a command fails between this and about a fifth later.
   * @default 5_000
   */
  commandTimeout?: number
  /**
   * Created clients only: reconnect attempts a queued command waits through before it fails
   * (ioredis `maxRetriesPerRequest`); `null` waits for as many as it takes.
   * @default 2
   */
  maxRetriesPerRequest?: number | null
  /**
   * Created clients only: ioredis `enableAutoPipelining` (commands of one tick sent as a
   * pipeline on `setImmediate`). Off by default: `cork` batches writes without the extra
   * event-loop turn, measured faster at every concurrency (see the package README).
   * @default false
   */
  autoPipelining?: boolean
  /**
   * Standalone clients: cork the socket for the rest of the tick when an operation starts, so
   * concurrent operations leave in one write. On by default for a client the store creates; a
   * client you pass is only corked if you opt in with `true` (corking drives its socket). No
   * effect on a `Cluster` (enable ioredis `enableAutoPipelining` on it instead).
   * @default true for a created client, false for one you pass
   */
  cork?: boolean
}
