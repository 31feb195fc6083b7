import type { Duration, Ttl } from '@cellar/core'
import type { Client, ClientOptions, ServerOptions } from 'memjs'

/** Options of `MemcachedStore`. Give either `client` or the connection options, not both. */
export interface MemcachedStoreOptions {
  /**
   * A memjs client to use; the store never closes it. Its own timeouts and retries apply.
   * Without it, the store creates (and on `close()` closes) a client from the options below.
   */
  client?: Client
  /**
   * Servers as `'host:port,host:port'` or an array of `'host:port'` (`user:pass@host:port` for
   * SASL); memjs spreads keys across them by hashing.
   * @default '127.0.0.1:11211'
   */
  servers?: string | readonly string[]
  /**
   * How long one request may wait for its answer (memjs `timeout`).
   * @default 500
   */
  timeout?: Duration
  /**
   * How long connecting to a server may take (memjs `conntimeout`).
   * @default 1000
   */
  connectTimeout?: Duration
  /**
   * Attempts for requests that are safe to repeat (get, set, delete), memjs `retries`. Counters,
   * `add`, CAS writes and locks are always sent once, so a retry can never apply them twice.
   * @default 2
   */
  retries?: number
  /**
   * Cork the client's sockets until the end of each tick, so the requests of concurrent
   * operations leave in one write (reads memjs's undeclared per-server `_socket`; see the
   * README's "memjs internals"). Off for a given `client` unless you opt in: the store never
   * changes how a client you own writes without being asked.
   * @default true for a client the store creates, false for a given client
   */
  corkSockets?: boolean
  /** Further memjs client options (`failover`, `keepAlive`, `username`/`password`...). */
  memjs?: Omit<ClientOptions & ServerOptions, 'timeout' | 'conntimeout' | 'retries'>
  /**
   * Every key of this store lives under this prefix; printable ASCII without spaces, at most
   * 200 bytes.
   * @default ''
   */
  prefix?: string
  /**
   * TTL used when a write omits one; `null` keeps entries until evicted or deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * How long a generation read is trusted without reading it again. With 0, every operation
   * checks the generation in the same round trip (shared by the operations of one tick), so a
   * `clear()` in another process is seen by the next operation here. A positive value saves that
   * request (it matters at low concurrency) but lets this store use the old generation for up to
   * this long after a `clear()` made elsewhere (another process, or another store object).
   * @default 0
   */
  generationTtl?: Duration
  /**
   * Largest value accepted, in bytes; larger writes throw `E_VALUE_TOO_LARGE` before anything
   * is sent. The default stays under memcached's 1 MiB item limit (`-I 1m`) with a 250-byte key
   * and the item header; raise it together with the server's `-I`.
   * @default 1_000_000
   */
  maxValueSize?: number
}
