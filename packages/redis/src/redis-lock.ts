import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { toCellarError } from './errors.js'
import { ACQUIRE, EXTEND, INSPECT, type LuaScript, RELEASE, runScript } from './scripts.js'

/** Lock ttl in whole milliseconds as a script argument; '' holds the lock until released. */
function ttlArg(ttlMs: number | null): string {
  return ttlMs === null ? '' : String(Math.max(1, Math.ceil(ttlMs)))
}

/** A script's "nothing" reply: null over RESP2, and `false` where a RESP3 client reads Lua's false. */
function isNil(reply: unknown): boolean {
  return reply === null || reply === undefined || reply === false
}

/**
 * Lock primitives on Redis: a holder key set with SET NX PX to the owner token, and a fencing
 * counter that never expires. Both keys of a name share a hash tag, so each script runs on one
 * Cluster slot. Keys: `<lockPrefix>{<storePrefix><name>}` and the same with `:fence` appended.
 * Each primitive is one EVALSHA and no extra promise hop: the lock path is latency-bound.
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

  acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    const holder = this.keyOf(name)
    const args = [holder, `${holder}:fence`, owner, ttlArg(ttlMs)]
    return this.#run('lock acquire', name, ACQUIRE, 2, args).then((token) =>
      isNil(token) ? false : Number(token),
    )
  }

  release(name: string, owner: string): Promise<boolean> {
    const args = [this.keyOf(name), owner]
    return this.#run('lock release', name, RELEASE, 1, args).then((removed) => removed === 1)
  }

  async forceRelease(name: string): Promise<void> {
    this.#guard()
    const connection = this.#connection
    if (connection.warming !== undefined) await connection.warming
    if (connection.cork) batchWrites(connection)
    try {
      await connection.client.del(this.keyOf(name))
    } catch (error) {
      throw toCellarError(error, 'lock forceRelease', name)
    }
  }

  extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const args = [this.keyOf(name), owner, ttlArg(ttlMs)]
    return this.#run('lock extend', name, EXTEND, 1, args).then((extended) => extended === 1)
  }

  inspect(name: string): Promise<LockState | undefined> {
    return this.#run('lock inspect', name, INSPECT, 1, [this.keyOf(name)]).then((state) => {
      if (isNil(state)) return undefined
      const [owner, pttl] = state as [string, number]
      return { owner, remainingMs: pttl < 0 ? null : pttl }
    })
  }

  #run(
    operation: string,
    name: string,
    script: LuaScript,
    keyCount: number,
    args: string[],
  ): Promise<unknown> {
    try {
      this.#guard()
    } catch (error) {
      return Promise.reject(error)
    }
    const connection = this.#connection
    const send = (): Promise<unknown> => {
      if (connection.cork) batchWrites(connection)
      return runScript(connection.client, script, keyCount, args).catch((error: unknown) => {
        throw toCellarError(error, operation, name)
      })
    }
    return connection.warming === undefined ? send() : connection.warming.then(send)
  }
}
