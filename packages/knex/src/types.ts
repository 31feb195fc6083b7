import type { Duration, Ttl } from '@cellar/core'
import type { Knex } from 'knex'
import type { TableNames } from './sql.js'

/** The SQL families the store speaks. */
export type DialectName = 'sqlite' | 'pg' | 'mysql'

/** Where the cache and its locks live; shared by `KnexStore` and `createTable`. */
export interface KnexTableOptions {
  /**
   * The cache table (`schema.table` is accepted).
   * @default 'cellar_cache'
   */
  tableName?: string
  /**
   * The locks table (`schema.table` is accepted).
   * @default 'cellar_locks'
   */
  lockTableName?: string
  /**
   * Longest key after the prefix, in UTF-8 bytes (what `capabilities.maxKeyLength` declares,
   * the same for every namespace). Longer keys throw `E_INVALID_KEY`.
   * @default 1024 on MySQL/MariaDB, 2048 on PostgreSQL, Infinity on SQLite
   */
  maxKeyLength?: number
  /**
   * Room reserved for the prefix (store prefix plus nested namespaces), in UTF-8 bytes; a longer
   * prefix is refused. On MySQL/MariaDB the key columns are created as
   * `VARBINARY(maxKeyLength + maxPrefixLength)` (at most 3072), so create and use the tables
   * with the same two numbers. PostgreSQL caps the sum near 2700 (B-tree entry size).
   * @default 256 on MySQL/MariaDB and PostgreSQL, Infinity on SQLite
   */
  maxPrefixLength?: number
}

export interface KnexStoreOptions extends KnexTableOptions {
  /**
   * The application's knex instance (never destroyed by the store), or a knex config from which
   * the store creates its own instance (destroyed by `close()`).
   */
  knex: Knex | Knex.Config
  /**
   * Every key of this store is stored under this prefix.
   * @default ''
   */
  prefix?: string
  /**
   * TTL used when a write omits one; `null` keeps entries until deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * Create the tables on first use (race-safe across processes); turn off when a migration
   * creates them with `createTable`.
   * @default true
   */
  autoCreateTable?: boolean
  /**
   * How often expired rows are deleted, walking the primary key in batches of 1,000 rows (reads
   * ignore expired rows anyway); `false` disables the sweep.
   * @default 60_000
   */
  pruneInterval?: Duration | false
  /**
   * Largest value accepted, in bytes; larger writes throw `E_VALUE_TOO_LARGE`.
   * @default 4 MiB on MySQL/MariaDB (values travel hex-escaped inside `max_allowed_packet`), 64 MiB elsewhere
   */
  maxValueSize?: number
  /**
   * Keys per statement in `getMany`, `deleteMany` and `setMany`, and rows per page of `keys()`.
   * @default 500
   */
  batchSize?: number
  /**
   * The clock deciding expiry, in epoch milliseconds. It is the application's clock, passed to
   * every statement as a parameter, so hosts sharing a database must keep their clocks in sync.
   * A row is alive while `now() <= expires_at`.
   * @default Date.now
   */
  now?: () => number
  /**
   * Run the store's statements as prepared statements on connections borrowed from knex's pool
   * (better-sqlite3: cached statements; pg: named prepared statements; mysql2: `execute`),
   * skipping knex's per-query work. Faster, most of all on SQLite; leave it off behind a
   * pooler that cannot keep prepared statements (PgBouncer in transaction mode).
   * @default false
   */
  preparedStatements?: boolean
}

/** Runs one statement and resolves the driver's raw result. */
export type Exec = (sql: string, bindings: readonly unknown[]) => Promise<unknown>

/** The database-specific half of the store: statements and result shapes that differ. */
export interface SqlDialect {
  readonly name: DialectName
  /** Quotes one identifier (no dots). */
  quote(identifier: string): string
  /** The default `maxKeyLength` (after the prefix, in bytes). */
  readonly defaultMaxKeyLength: number
  /** The default `maxPrefixLength` (in bytes). */
  readonly defaultMaxPrefixLength: number
  /** The default `maxValueSize`. */
  readonly defaultMaxValueSize: number
  /** Rows of a SELECT (or RETURNING) result. */
  rows(result: unknown): Array<Record<string, unknown>>
  /** Rows changed by a write. */
  affected(result: unknown): number
  /** Keys may contain U+0000 (PostgreSQL text cannot). */
  readonly nulInKeys: boolean
  /** Key column values come back as text (pg, sqlite) or bytes (mysql). */
  keyText(value: unknown): string
  /** Creates both tables if missing, key columns `columnBytes` wide; safe when processes race. */
  createTables(knex: Knex, names: TableNames, columnBytes: number): Promise<void>
  /** The upsert statement head for `rows` rows of (key, value, expires_at). */
  upsertSql(names: TableNames, rows: number): string
  /** Inserts, or takes over an expired row; resolves true if it wrote. */
  add(exec: Exec, knex: Knex, names: TableNames, row: AddRow): Promise<boolean>
  /**
   * Adds `delta` atomically; a missing or expired key starts at 0 and takes `op.expiresAt` in
   * the same step, a live one keeps its expiry. A value that is not a canonical counter, or a
   * sum past the safe integers, leaves the row unchanged.
   */
  increment(exec: Exec, knex: Knex, names: TableNames, op: IncrementOp): Promise<IncrementResult>
  /** Takes a free or expired lock; resolves the new fencing token or false. */
  acquire(exec: Exec, names: TableNames, op: AcquireOp): Promise<number | false>
}

export interface AddRow {
  readonly key: string
  readonly value: Buffer
  readonly expiresAt: number | null
  readonly now: number
}

export interface IncrementOp {
  readonly key: string
  readonly delta: number
  readonly now: number
  /** The expiry of a counter this increment creates (or takes over from an expired row). */
  readonly expiresAt: number | null
}

/** The counter after the write; `nan` and `overflow` (with the value kept) changed nothing. */
export type IncrementResult =
  | { readonly kind: 'ok'; readonly value: number }
  | { readonly kind: 'nan' }
  | { readonly kind: 'overflow'; readonly current: number }

export interface AcquireOp {
  readonly name: string
  readonly owner: string
  readonly expiresAt: number | null
  readonly now: number
}
