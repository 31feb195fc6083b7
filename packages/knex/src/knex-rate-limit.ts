import {
  decodeRateLimitState,
  encodeRateLimitState,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  SteppedRateLimitBackend,
  scopedKey,
} from '@cellar/core'
import type { Context } from './context.js'
import { takesNumbered } from './prepared.js'
import {
  type CountStatement,
  countBindings,
  countNow,
  countStatement,
  decodeCount,
  encodeCount,
  inCountLayout,
  isDataException,
} from './rate-limit-count.js'
import {
  decodeNative,
  encodeNative,
  type NativeStatement,
  nativeStatement,
} from './rate-limit-native.js'
import {
  type AllowedStatement,
  allowedBindings,
  allowedDecision,
  allowedStatement,
  hasAllowedStatement,
  type SteppedAlgorithm,
  serverNow,
} from './rate-limit-sql.js'
import { execOn, toNumber } from './sql.js'
import type { DialectName, Exec } from './types.js'

// The database server's clock in epoch milliseconds, one reading per decision, taken by the
// statement that holds the row lock (so decisions on one key see non-decreasing times).
// PostgreSQL: clock_timestamp() (the time of the call, not the transaction's start);
// MySQL/MariaDB: SYSDATE(3) (the time of the call, unlike NOW()); SQLite runs in the process,
// so its 'now' is the host's clock.
const CLOCK: Readonly<Record<DialectName, string>> = {
  pg: 'floor(extract(epoch from clock_timestamp()) * 1000)::bigint',
  mysql: 'FLOOR(UNIX_TIMESTAMP(SYSDATE(3)) * 1000)',
  sqlite: "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
}

// Failures after which the whole transaction is rolled back and may simply run again.
const RETRYABLE = new Set(['40P01', '40001', 'ER_LOCK_DEADLOCK'])
const ATTEMPTS = 5

function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (RETRYABLE.has(code) || code.startsWith('SQLITE_BUSY'))
}

// A state row's value is core's `r1:a:b:w:blockedUntil` text, or on PostgreSQL and SQLite a
// fixed window's count (rate-limit-count.ts), or on PostgreSQL a sliding window's or token
// bucket's layout (rate-limit-native.ts); anything else reads as no state.

/** The state a row holds, in any layout. */
function stateOf(row: Record<string, unknown> | undefined): RateLimitState | undefined {
  const value = row?.value
  const expires = toNumber(row?.expires_at)
  return decodeRateLimitState(value) ?? decodeCount(value, expires) ?? decodeNative(value, expires)
}

interface Statements {
  /** Makes the row exist and locks it (PostgreSQL, SQLite: and reads it with the clock). */
  readonly lock: string
  /** MySQL only: reads the locked row with the clock. */
  readonly read: string | undefined
  /** Reads the row (or nothing) and the clock without a lock: a peek. */
  readonly peek: string
  readonly write: string
  readonly remove: string
  /** PostgreSQL, SQLite: the one-statement allowed paths (rate-limit-sql.ts) and the fixed
   * window's, which also keeps a window without a block in the count layout. */
  readonly allowed: AllowedStatements | undefined
}

/** The one-statement paths: the fixed window's per `aligned`; the sliding window's and token
 * bucket's on their own layouts (PostgreSQL) or on core's text (SQLite). */
interface AllowedStatements {
  readonly fixed: CountStatement
  readonly aligned: CountStatement
  readonly native: Readonly<Record<SteppedAlgorithm, NativeStatement>> | undefined
  readonly text: Readonly<Record<SteppedAlgorithm, AllowedStatement>> | undefined
}

function statementsFor(ctx: Context): Statements {
  const { dialect } = ctx
  const q = (name: string) => dialect.quote(name)
  const [key, value, expires] = [q('key'), q('value'), q('expires_at')]
  const table = ctx.names.cache
  const clock = CLOCK[dialect.name]
  const peek = `SELECT ${clock} AS ${q('now')}, ${value}, ${expires} FROM (SELECT 1 AS ${q('one')}) ${q('d')} LEFT JOIN ${table} ON ${key} = ?`
  const write = `UPDATE ${table} SET ${value} = ?, ${expires} = ? WHERE ${key} = ?`
  const remove = `DELETE FROM ${table} WHERE ${key} = ?`
  const columns = { table, key, value, expires }
  const allowed =
    dialect.name !== 'mysql'
      ? {
          fixed: countStatement(dialect.name, columns, false),
          aligned: countStatement(dialect.name, columns, true),
          native:
            dialect.name === 'pg'
              ? {
                  'sliding-window': nativeStatement('sliding-window', columns),
                  'token-bucket': nativeStatement('token-bucket', columns),
                }
              : undefined,
          text: hasAllowedStatement(dialect.name)
            ? {
                'sliding-window': allowedStatement(dialect.name, 'sliding-window', columns),
                'token-bucket': allowedStatement(dialect.name, 'token-bucket', columns),
              }
            : undefined,
        }
      : undefined
  if (dialect.name === 'mysql') {
    return {
      // ON DUPLICATE KEY UPDATE takes the row's exclusive lock at once (INSERT IGNORE would take
      // a shared one, and two sessions upgrading it would deadlock).
      lock: `INSERT INTO ${table} (${key}, ${value}, ${expires}) VALUES (?, '', NULL) ON DUPLICATE KEY UPDATE ${key} = ${key}`,
      read: `SELECT ${value}, ${expires}, ${clock} AS ${q('now')} FROM ${table} WHERE ${key} = ? FOR UPDATE`,
      peek,
      write,
      remove,
      allowed,
    }
  }
  return {
    // The conflict update rewrites nothing but locks the row; RETURNING reads it after the lock.
    lock: `INSERT INTO ${table} AS ${q('c')} (${key}, ${value}, ${expires}) VALUES (?, ?, NULL) ON CONFLICT (${key}) DO UPDATE SET ${value} = ${q('c')}.${value} RETURNING ${value}, ${expires}, ${clock} AS ${q('now')}`,
    read: undefined,
    peek,
    write,
    remove,
    allowed,
  }
}

/**
 * The SQL store's native limiter step. On PostgreSQL and SQLite a consume of at most `limit`
 * points is first tried as ONE upsert that decides in SQL and writes only when the consume is
 * allowed: the fixed window's on its count layout (rate-limit-count.ts), the others' with a
 * compare-and-set on core's text (rate-limit-sql.ts); the decision is then core's read of the
 * state it wrote. Everything else (a refusal, a block in force, a lost compare-and-set, a value
 * in the other layout or not a state, negative points, every consume on MySQL/MariaDB) is one
 * short transaction that makes the state row exist and locks it, reads it with the database
 * server's clock, runs core's reference step and writes the result (or deletes the row): BEGIN,
 * 2 statements (MySQL: 3), COMMIT. A read (0 points) is one statement without a lock and writes
 * nothing. The row lives in the cache table under the store's prefix; its `expires_at` is the
 * state's end translated to the store's clock (the count layout: the window's end on the
 * server's clock), so the sweep removes it.
 */
export class KnexRateLimitBackend extends SteppedRateLimitBackend {
  readonly #ctx: Context
  readonly #prefix: string
  readonly #check: (key: string) => void
  readonly #sql: Statements
  /** The store's exec sends `$1`-numbered SQL (PostgreSQL prepared statements). */
  readonly #numbered: boolean

  /** `check(key)` refuses a closed store and a key the store would refuse (`E_INVALID_KEY`). */
  constructor(ctx: Context, prefix: string, check: (key: string) => void) {
    super()
    this.#ctx = ctx
    this.#prefix = prefix
    this.#check = check
    this.#sql = statementsFor(ctx)
    this.#numbered = takesNumbered(ctx.exec)
  }

  async reset(key: string): Promise<void> {
    this.#check(key)
    const stored = scopedKey(this.#prefix, key)
    await this.#ctx.run('rate limit reset', key, (exec) => exec(this.#sql.remove, [stored]))
  }

  protected async decide(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    this.#check(key)
    const stored = scopedKey(this.#prefix, key)
    return this.#ctx.run('rate limit', key, async (exec, dialect) => {
      if (request.points === 0) {
        const row = dialect.rows(await exec(this.#sql.peek, [stored]))[0]
        const now = toNumber(row?.now) as number
        return rateLimitStep(algorithm, stateOf(row), now, request).decision
      }
      const allowed = this.#sql.allowed
      if (allowed !== undefined && request.points > 0 && request.points <= request.limit) {
        const decided =
          algorithm === 'fixed-window'
            ? await this.#counted(
                exec,
                request.aligned ? allowed.aligned : allowed.fixed,
                stored,
                request,
              )
            : allowed.native !== undefined
              ? await this.#native(exec, allowed.native[algorithm], algorithm, stored, request)
              : await this.#allowed(
                  exec,
                  allowed.text?.[algorithm] as AllowedStatement,
                  algorithm,
                  stored,
                  request,
                )
        if (decided !== undefined) return decided
      }
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#ctx.knex.transaction((trx) =>
            this.#decide(execOn(trx), algorithm, stored, request),
          )
        } catch (error) {
          if (!retryable(error) || attempt >= ATTEMPTS) throw error
        }
      }
    })
  }

  /** The one-statement path: the allowed decision, or `undefined` when it wrote nothing. */
  async #allowed(
    exec: Exec,
    statement: AllowedStatement,
    algorithm: SteppedAlgorithm,
    stored: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision | undefined> {
    const at = Math.ceil(this.#ctx.now())
    const bindings = allowedBindings(statement, request, at, stored)
    const row = this.#ctx.dialect.rows(await exec(statement.sql, bindings))[0]
    if (row === undefined) return undefined
    const state = decodeRateLimitState(row.value)
    const expires = toNumber(row.expires_at)
    if (state === undefined || expires === null) {
      throw new Error('[cellar:knex] the limiter statement wrote a state it cannot read back')
    }
    const now = serverNow(algorithm, state, request.windowMs, at, expires)
    return allowedDecision(algorithm, state, now, request)
  }

  /** The PostgreSQL one statement of the sliding window and token bucket on their layouts: the
   * allowed decision, or `undefined` when it wrote nothing (or met a number its casts can't read). */
  async #native(
    exec: Exec,
    statement: NativeStatement,
    algorithm: SteppedAlgorithm,
    stored: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision | undefined> {
    const values = statement.bindings(request, stored)
    if (values === undefined) return undefined
    let result: unknown
    try {
      result = this.#numbered
        ? await exec(statement.sql, values)
        : await exec(
            statement.positional,
            statement.order.map((i) => values[i]),
          )
    } catch (error) {
      if (isDataException(error)) return undefined
      throw error
    }
    const row = this.#ctx.dialect.rows(result)[0]
    if (row === undefined) return undefined
    const state = decodeNative(row.value, toNumber(row.expires_at))
    if (state === undefined) {
      throw new Error('[cellar:knex] the limiter statement wrote a state it cannot read back')
    }
    return allowedDecision(algorithm, state, countNow('pg', row.now), request)
  }

  /** The fixed window's one statement: the allowed decision, or `undefined` when it wrote
   * nothing (or met a value its count cast can't read). */
  async #counted(
    exec: Exec,
    statement: CountStatement,
    stored: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision | undefined> {
    const { dialect } = this.#ctx
    const form = (this.#numbered && statement.numbered) || statement
    let result: unknown
    try {
      result = await exec(form.sql, countBindings(form, request, stored))
    } catch (error) {
      if (isDataException(error)) return undefined
      throw error
    }
    const row = dialect.rows(result)[0]
    if (row === undefined) return undefined
    const state = decodeCount(row.value, toNumber(row.expires_at))
    if (state === undefined) {
      throw new Error('[cellar:knex] the limiter statement wrote a count it cannot read back')
    }
    const now = countNow(dialect.name, row.now)
    return allowedDecision('fixed-window', state, now, request)
  }

  async #decide(
    exec: Exec,
    algorithm: RateLimitAlgorithm,
    stored: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    const { dialect } = this.#ctx
    const sql = this.#sql
    let result: unknown
    if (sql.read === undefined) {
      result = await exec(sql.lock, [stored, Buffer.alloc(0)])
    } else {
      await exec(sql.lock, [stored])
      result = await exec(sql.read, [stored])
    }
    const row = dialect.rows(result)[0]
    const now = toNumber(row?.now) as number
    const outcome = rateLimitStep(algorithm, stateOf(row), now, request)
    const { state } = outcome
    const native =
      state !== undefined && algorithm !== 'fixed-window' && sql.allowed?.native !== undefined
        ? encodeNative(algorithm, state, outcome.expiresAt)
        : undefined
    if (native !== undefined && outcome.expiresAt > now) {
      // The sliding window's or bucket's layout: its times stay on the server's clock.
      await exec(sql.write, [native.value, native.expires, stored])
    } else if (
      state !== undefined &&
      outcome.expiresAt > now &&
      algorithm === 'fixed-window' &&
      sql.allowed !== undefined &&
      inCountLayout(state)
    ) {
      // The count layout: the window's end stays on the server's clock.
      await exec(sql.write, [encodeCount(state), state.w, stored])
    } else if (state !== undefined && outcome.expiresAt > now) {
      // The sweep and ttl() run on the store's clock: the row ends as long after its reading.
      const expiresAt = Math.ceil(this.#ctx.now()) + (outcome.expiresAt - now)
      await exec(sql.write, [encodeRateLimitState(state), expiresAt, stored])
    } else {
      await exec(sql.remove, [stored])
    }
    return outcome.decision
  }
}
