import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { toCellarError } from './errors.js'
import { ACQUIRE, EXTEND, INSPECT, RELEASE, runScript } from './scripts.js'

/** Lock ttl in whole milliseconds as a script argument; '' holds the lock until released. */
function ttlArg(ttlMs: number | null): string | number {
  return ttlMs === null ? '' : Math.max(1, Math.ceil(ttlMs))
}

/**
 * Lock primitives on Redis: a holder key set with SET NX PX to the owner token, and a fencing
 * counter that never expires. Both keys of a name share a hash tag, so each script runs on one
 * Cluster slot. Keys: `<lockPrefix>{<storePrefix><name>}` and the same with `:fence` appended.
 */
export class RedisLockBackend implements LockBackend {
  readonly #connection: Connection
  readonly #root: string
  readonly #guard: () => void

  /** `guard` throws when the owning store is closed; `root` is `<lockPrefix>{<storePrefix>`. */
  constructor(connection: Connection, root: string, guard: () => void) {
    this.#connection = connection
    this.#root = root
    this.#guard = guard
  }

  /** The holder key of a lock name (its fencing counter is this plus `:fence`). */
  keyOf(name: string): string {
    return `${this.#root}${name}}`
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    const holder = this.keyOf(name)
    const token = await this.#run(
      'lock acquire',
      name,
      ACQUIRE,
      [holder, `${holder}:fence`],
      [owner, ttlArg(ttlMs)],
    )
    return token === null ? false : Number(token)
  }

  async release(name: string, owner: string): Promise<boolean> {
    return (await this.#run('lock release', name, RELEASE, [this.keyOf(name)], [owner])) === 1
  }

  async forceRelease(name: string): Promise<void> {
    this.#guard()
    await this.#ready()
    try {
      await this.#connection.client.del(this.keyOf(name))
    } catch (error) {
      throw toCellarError(error, 'lock forceRelease', name)
    }
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const args = [owner, ttlArg(ttlMs)]
    return (await this.#run('lock extend', name, EXTEND, [this.keyOf(name)], args)) === 1
  }

  async inspect(name: string): Promise<LockState | undefined> {
    const state = await this.#run('lock inspect', name, INSPECT, [this.keyOf(name)], [])
    if (state === null) return undefined
    const [owner, pttl] = state as [string, number]
    return { owner, remainingMs: pttl < 0 ? null : pttl }
  }

  async #ready(): Promise<void> {
    const connection = this.#connection
    if (connection.warming !== undefined) await connection.warming
    if (connection.cork) batchWrites(connection)
  }

  async #run(
    operation: string,
    name: string,
    script: Parameters<typeof runScript>[1],
    keys: string[],
    args: Array<string | number>,
  ): Promise<unknown> {
    this.#guard()
    await this.#ready()
    try {
      return await runScript(this.#connection.client, script, keys, args)
    } catch (error) {
      throw toCellarError(error, operation, name)
    }
  }
}
