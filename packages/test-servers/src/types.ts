/** Where a server came from: an env URL, a binary this process started, or the default port. */
export type ServerSource = 'env' | 'spawned' | 'default'

/** Environment variables the finders read; defaults to `process.env`. */
export type ServerEnv = Readonly<Record<string, string | undefined>>

/** Options shared by every finder; tests pass them to exercise the lookup rules in isolation. */
export interface FindOptions {
  /**
   * Environment to read the URL and the CI rule from.
   * @default process.env
   */
  env?: ServerEnv
  /**
   * Whether the finder may start a binary found on PATH (Redis, memcached only).
   * @default true
   */
  spawn?: boolean
  /**
   * Where the loud "not found" line goes.
   * @default console.warn
   */
  log?: (line: string) => void
}

/** A running Redis or memcached, with a lifecycle only when this process started it. */
export interface ServerHandle {
  /** Loopback or env host. */
  readonly host: string
  /** TCP port. */
  readonly port: number
  /** How the server was found. */
  readonly source: ServerSource
  /** Stops a spawned server (resolves once its process has exited); throws for env/default servers. */
  stop(): Promise<void>
  /** Starts a stopped spawned server again on the same port and resolves once it answers. */
  start(): Promise<void>
}

/** A Redis server: `url` is `redis://host:port` (or the env URL as given). */
export interface RedisServer extends ServerHandle {
  readonly url: string
}

/** A memcached server: `servers` is the `host:port[,host:port]` list memjs takes. */
export interface MemcachedServer extends ServerHandle {
  readonly servers: string
}

/** Connection fields for a fresh SQL database, ready for knex/pg/mysql2. */
export interface SqlConnection {
  host: string
  port: number
  user: string
  password?: string
  database: string
}

/** A fresh database created for the caller; `dispose()` drops it (idempotent). */
export interface SqlDatabase {
  readonly connection: SqlConnection
  /** `postgres://` or `mysql://` URL of the fresh database. */
  readonly url: string
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Options for `startRedis()` / `startMemcached()`. */
export interface StartOptions {
  /** Extra command-line arguments appended after the defaults. */
  args?: string[]
  /**
   * Milliseconds to wait for the server to answer after spawning.
   * @default 10000
   */
  readyTimeout?: number
}

/** Options for `startRedisSentinel()`. */
export interface SentinelStartOptions {
  /**
   * The master group name the sentinel monitors (ioredis `name`).
   * @default 'cellar'
   */
  name?: string
  /**
   * Milliseconds to wait for the sentinel to answer and know its master.
   * @default 10000
   */
  readyTimeout?: number
}

/** A private Redis master watched by one `redis-sentinel`, both started by this process. */
export interface RedisSentinelServer {
  /** The master group name: ioredis `{ sentinels, name }` connects through it. */
  readonly name: string
  /** The sentinels' addresses, as ioredis's `sentinels` option takes them. */
  readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>
  /** The master itself (stoppable like any `startRedis()` server). */
  readonly master: RedisServer
  /** Stops the sentinel, then the master; resolves once both exited. */
  stop(): Promise<void>
}
