import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import type { Context } from './context.js'
import { expiryOf, toNumber } from './sql.js'

/**
 * Lock primitives on the locks table (name, owner, expires_at, fence). Each is one atomic
 * statement (MySQL's acquire: an UPDATE, and an INSERT IGNORE the first time a name is used).
 * Release clears the owner but keeps the row, so the fence keeps counting up across holders.
 */
export class KnexLockBackend implements LockBackend {
  readonly #ctx: Context
  readonly #prefix: string

  /** Locks named under `prefix`, in the context's locks table. */
  constructor(context: Context, prefix = '') {
    this.#ctx = context
    this.#prefix = prefix
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    return this.#ctx.run('lock acquire', name, (exec, dialect) => {
      const now = this.#ctx.now()
      const op = { name: this.#prefix + name, owner, expiresAt: expiryOf(now, ttlMs), now }
      return dialect.acquire(exec, this.#ctx.names, op)
    })
  }

  async release(name: string, owner: string): Promise<boolean> {
    return this.#ctx.run('lock release', name, async (exec, dialect) => {
      const result = await exec(this.#ctx.sql.release, [
        this.#prefix + name,
        owner,
        this.#ctx.now(),
      ])
      return dialect.affected(result) > 0
    })
  }

  async forceRelease(name: string): Promise<void> {
    await this.#ctx.run('lock forceRelease', name, (exec) =>
      exec(this.#ctx.sql.forceRelease, [this.#prefix + name]),
    )
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    return this.#ctx.run('lock extend', name, async (exec, dialect) => {
      const now = this.#ctx.now()
      const bindings = [expiryOf(now, ttlMs), this.#prefix + name, owner, now]
      return dialect.affected(await exec(this.#ctx.sql.extend, bindings)) > 0
    })
  }

  async inspect(name: string): Promise<LockState | undefined> {
    return this.#ctx.run('lock inspect', name, async (exec, dialect) => {
      const now = this.#ctx.now()
      const rows = dialect.rows(await exec(this.#ctx.sql.inspect, [this.#prefix + name, now]))
      const row = rows[0]
      if (row === undefined) return undefined
      const expiresAt = toNumber(row.expires)
      return {
        owner: dialect.keyText(row.owner),
        remainingMs: expiresAt === null ? null : Math.max(0, expiresAt - now),
      }
    })
  }
}
