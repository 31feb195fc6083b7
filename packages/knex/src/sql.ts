import { InvalidArgumentError } from '@cellar/core'
import type { Knex } from 'knex'
import type { Exec, KnexTableOptions, SqlDialect } from './types.js'

/** Quoted identifiers of the two tables, plus the parts some DDL needs separately. */
export interface TableNames {
  /** The quoted (possibly schema-qualified) cache table. */
  readonly cache: string
  /** The quoted (possibly schema-qualified) locks table. */
  readonly locks: string
  /** The schema of the cache table, unquoted, when one was given. */
  readonly schema: string | undefined
  /** The cache table's own name, unquoted (indexes are named after it). */
  readonly cacheBase: string
}

export const DEFAULT_TABLE = 'cellar_cache'
export const DEFAULT_LOCK_TABLE = 'cellar_locks'

function splitName(name: string, what: string): [string | undefined, string] {
  const parts = name.split('.')
  if (parts.length > 2 || parts.some((part) => part.length === 0)) {
    throw new InvalidArgumentError(
      `[cellar:knex] ${what} must be "table" or "schema.table", got ${JSON.stringify(name)}`,
    )
  }
  return parts.length === 2 ? [parts[0], parts[1] as string] : [undefined, parts[0] as string]
}

/** Quotes both table names for a dialect; throws `E_INVALID_ARGUMENT` on a malformed name. */
export function tableNames(dialect: SqlDialect, cacheTable: string, lockTable: string): TableNames {
  const qualify = (name: string, what: string) =>
    splitName(name, what)
      .filter((part): part is string => part !== undefined)
      .map((part) => dialect.quote(part))
      .join('.')
  const [schema, cacheBase] = splitName(cacheTable, 'tableName')
  return {
    cache: qualify(cacheTable, 'tableName'),
    locks: qualify(lockTable, 'lockTableName'),
    schema,
    cacheBase,
  }
}

/** Quotes with `mark`, doubling it inside (the SQL standard way, and MySQL's for backticks). */
export function quoteWith(mark: string, identifier: string): string {
  return mark + identifier.split(mark).join(mark + mark) + mark
}

/**
 * The smallest string above every string that starts with `prefix`, in code point order (which
 * is UTF-8 byte order: SQLite's BINARY, PostgreSQL's "C" and MySQL's VARBINARY comparisons), or
 * `undefined` when there is none (an empty prefix). Keys starting with `prefix` are exactly
 * those `>= prefix` and `<` this bound: a range the primary key index answers, with no LIKE to
 * escape and no case folding.
 */
export function prefixBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (char) => char.codePointAt(0) as number)
  while (points.length > 0) {
    const last = (points.pop() as number) + 1
    if (last <= 0x10ffff) {
      // Never a lone surrogate: it would reach the database as U+FFFD.
      points.push(last === 0xd800 ? 0xe000 : last)
      return String.fromCodePoint(...points)
    }
  }
  return undefined
}

/** Bytes as the drivers bind them, without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}

/**
 * A copy of what the driver returned, as a plain `Uint8Array`: driver buffers may be slices of a
 * shared pool, which callers must not see or keep alive.
 */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value)
  // A value someone wrote as text (never the store itself) still reads back as its bytes.
  return new TextEncoder().encode(String(value))
}

/**
 * The absolute expiry of a write, in epoch ms; `null` never expires. A row is alive while
 * `now <= expires_at`, so a TTL `<= 0` gives a stamp already in the past.
 */
export function expiryOf(now: number, ttlMs: number | null): number | null {
  if (ttlMs === null) return null
  if (ttlMs <= 0) return Math.floor(now) - 1
  return Math.min(Math.ceil(now + ttlMs), Number.MAX_SAFE_INTEGER)
}

/** Splits a list into runs of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = []
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size))
  return runs
}

/** `?, ?, ?` for `count` placeholders. */
export function placeholders(count: number): string {
  return new Array(count).fill('?').join(', ')
}

/** Reads a bigint column the drivers may return as a string (pg) or a number. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null
  return typeof value === 'number' ? value : Number(value)
}

/** Runs raw statements on a knex instance or transaction. */
export function execOn(knex: Knex): Exec {
  return (sql, bindings) =>
    knex.raw(sql, bindings as readonly Knex.RawBinding[]) as unknown as Promise<unknown>
}

/** Key size limits after defaults and checks; `columnBytes` sizes MySQL's key columns. */
export interface KeyLimits {
  readonly maxKeyLength: number
  readonly maxPrefixLength: number
  readonly columnBytes: number
}

export function keyLimits(dialect: SqlDialect, options: KnexTableOptions): KeyLimits {
  const check = (value: number, what: string) => {
    if (value !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(value) && value > 0)) {
      throw new InvalidArgumentError(
        `[cellar:knex] ${what} must be a positive integer or Infinity, got ${String(value)}`,
      )
    }
    return value
  }
  const maxKeyLength = check(options.maxKeyLength ?? dialect.defaultMaxKeyLength, 'maxKeyLength')
  const maxPrefixLength = check(
    options.maxPrefixLength ?? dialect.defaultMaxPrefixLength,
    'maxPrefixLength',
  )
  return { maxKeyLength, maxPrefixLength, columnBytes: maxKeyLength + maxPrefixLength }
}
