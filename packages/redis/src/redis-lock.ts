import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { toCellarError } from './errors.js'
import { ACQUIRE, EXTEND, INSPECT, type LuaScript, RELEASE } from './scripts.js'

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
 * counter kept 30 days past the last acquire (see `ACQUIRE`). Both keys of a name share a hash tag, so each script runs on one
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
    return this.#run('lock acquire', name, ACQUIRE, 2, args, toToken)
  }

  release(name: string, owner: string): Promise<boolean> {
    return this.#run('lock release', name, RELEASE, 1, [this.keyOf(name), owner], isOne)
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
    return this.#run('lock extend', name, EXTEND, 1, args, isOne)
  }

  inspect(name: string): Promise<LockState | undefined> {
    return this.#run('lock inspect', name, INSPECT, 1, [this.keyOf(name)], toState)
  }

  /**
   * Runs a script and reads its reply in one promise step: EVALSHA, and EVAL only after a
   * NOSCRIPT (the lock path is latency-bound, so every promise hop shows at concurrency 1).
   */
  #run<T>(
    operation: string,
    name: string,
    script: LuaScript,
    keyCount: number,
    args: string[],
    read: (reply: unknown) => T,
  ): Promise<T> {
    try {
      this.#guard()
    } catch (error) {
      return Promise.reject(error)
    }
    const connection = this.#connection
    const fail = (error: unknown): never => {
      throw toCellarError(error, operation, name)
    }
    const send = (): Promise<T> => {
      if (connection.cork) batchWrites(connection)
      const client = connection.client
      return client.evalsha(script.sha, keyCount, args).then(read, (error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) fail(error)
        return client.eval(script.lua, keyCount, args).then(read, fail)
      })
    }
    return connection.warming === undefined ? send() : connection.warming.then(send)
  }
}

function toToken(reply: unknown): FencingToken | false {
  return isNil(reply) ? false : Number(reply)
}

function isOne(reply: unknown): boolean {
  return reply === 1
}

function toState(reply: unknown): LockState | undefined {
  if (isNil(reply)) return undefined
  const [owner, pttl] = reply as [string, number]
  return { owner, remainingMs: pttl < 0 ? null : pttl }
}
