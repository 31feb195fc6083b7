import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { toCellarError } from './errors.js'
import { ACQUIRE, EXTEND, INSPECT, type LuaScript, RELEASE_STRING, runScript } from './scripts.js'
import type { RedisClient } from './types.js'

/** Lock ttl in whole milliseconds as a script argument; '' holds the lock until released. */
function ttlArg(ttlMs: number | null): string {
  return ttlMs === null ? '' : String(Math.max(1, Math.ceil(ttlMs)))
}

/** A script's "nothing" reply: null over RESP2, and `false` where a RESP3 client reads Lua's false. */
function isNil(reply: unknown): boolean {
  return reply === null || reply === undefined || reply === false
}

/**
 * Lock primitives on Redis: a holder hash whose one field is the owner token, with the lock's
 * expiry, and a fencing counter that lives 30 days (see `ACQUIRE`). Both keys of a name share a
 * hash tag, so each script runs on one Cluster slot. Keys: `<lockPrefix>{<storePrefix><name>}`
 * and the same with `:fence` appended. Each primitive is one command (an EVALSHA, or `HDEL` for
 * release) and no extra promise hop: the lock path is latency-bound.
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
    const holder = this.keyOf(name)
    return this.#send('lock release', name, (client, fail) =>
      client.hdel(holder, owner).then(isOne, (error: unknown) => {
        // A string holder, written by a version before the hash holder: its own script.
        if (!isWrongType(error)) fail(error)
        return runScript(client, RELEASE_STRING, 1, [holder, owner]).then(isOne, fail)
      }),
    )
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
    return this.#send(operation, name, (client, fail) =>
      client.evalsha(script.sha, keyCount, args).then(read, (error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) fail(error)
        return client.eval(script.lua, keyCount, args).then(read, fail)
      }),
    )
  }

  /** Sends one lock command once the store is open and the client warm, corking like the store. */
  #send<T>(
    operation: string,
    name: string,
    call: (client: RedisClient, fail: (error: unknown) => never) => Promise<T>,
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
      return call(connection.client, fail)
    }
    return connection.warming === undefined ? send() : connection.warming.then(send)
  }
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE')
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
