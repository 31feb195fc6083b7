import { type FencingToken, type LockBackend, type LockState, scopedKey } from '@cellar/core'
import type { Context } from './context.js'
import { expiryOf, toNumber } from './sql.js'

/**
 * Lock primitives on the locks table (name, owner, expires_at, fence). Each is one atomic
 * statement (MySQL's acquire: an UPDATE, and an INSERT IGNORE the first time a name is used).
 * Release clears the owner but keeps the row, so the fence keeps counting up across holders.
 * A lock is held while `now <= expires_at`, the boundary rule of cache entries. Internal: the
 * store hands it a check that refuses every call once the store (or its root) is closed.
 */
export class KnexLockBackend implements LockBackend {
  readonly #ctx: Context
  readonly #prefix: string
  readonly #open: () => void

  constructor(context: Context, prefix: string, open: () => void) {
    this.#ctx = context
    this.#prefix = prefix
    this.#open = open
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    this.#open()
    return this.#ctx.run('lock acquire', name, (exec, dialect) => {
      const now = this.#ctx.now()
      const op = { name: this.#name(name), owner, expiresAt: expiryOf(now, ttlMs), now }
      return dialect.acquire(exec, this.#ctx.names, op)
    })
  }

  async release(name: string, owner: string): Promise<boolean> {
    this.#open()
    return this.#ctx.run('lock release', name, async (exec, dialect) => {
      const bindings = [this.#name(name), owner, this.#ctx.now()]
      return dialect.affected(await exec(this.#ctx.sql.release, bindings)) > 0
    })
  }

  async forceRelease(name: string): Promise<void> {
    this.#open()
    await this.#ctx.run('lock forceRelease', name, (exec) =>
      exec(this.#ctx.sql.forceRelease, [this.#name(name)]),
    )
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    this.#open()
    return this.#ctx.run('lock extend', name, async (exec, dialect) => {
      const now = this.#ctx.now()
      const bindings = [expiryOf(now, ttlMs), this.#name(name), owner, now]
      return dialect.affected(await exec(this.#ctx.sql.extend, bindings)) > 0
    })
  }

  async inspect(name: string): Promise<LockState | undefined> {
    this.#open()
    return this.#ctx.run('lock inspect', name, async (exec, dialect) => {
      const now = this.#ctx.now()
      const rows = dialect.rows(await exec(this.#ctx.sql.inspect, [this.#name(name), now]))
      const row = rows[0]
      if (row === undefined) return undefined
      const expiresAt = toNumber(row.expires)
      return {
        owner: dialect.keyText(row.owner),
        remainingMs: expiresAt === null ? null : Math.max(0, expiresAt - now),
      }
    })
  }

  #name(name: string): string {
    return scopedKey(this.#prefix, name)
  }
}
