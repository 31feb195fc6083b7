import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { batchWrites, type Connection } from './connection.js'
import { toCellarError } from './errors.js'
import {
  ACQUIRE,
  EXTEND,
  INSPECT,
  isNoScript,
  type LuaScript,
  RELEASE_STRING,
  runScript,
} from './scripts.js'
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
 * release) read in one promise step: the lock path is latency-bound, so at concurrency 1 every
 * promise hop and callback shows.
 */
export class RedisLockBackend implements LockBackend {
  readonly #connection: Connection
  readonly #root: string
  readonly #guard: () => void
  /** Commands of this backend sent and not answered yet. */
  #pending = 0
  readonly #token = (reply: unknown): FencingToken | false => {
    this.#pending--
    return isNil(reply) ? false : Number(reply)
  }
  readonly #one = (reply: unknown): boolean => {
    this.#pending--
    return reply === 1
  }

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
    const client = this.#client()
    if (client === undefined) return this.#later(() => this.acquire(name, owner, ttlMs))
    const holder = this.keyOf(name)
    const fence = `${holder}:fence`
    const ttl = ttlArg(ttlMs)
    return client.evalsha(ACQUIRE.sha, 2, holder, fence, owner, ttl).then(this.#token, (error) => {
      if (!isNoScript(error)) this.#fail(error, 'lock acquire', name)
      return client
        .eval(ACQUIRE.lua, 2, holder, fence, owner, ttl)
        .then(this.#token, (again) => this.#fail(again, 'lock acquire', name))
    })
  }

  release(name: string, owner: string): Promise<boolean> {
    const client = this.#client()
    if (client === undefined) return this.#later(() => this.release(name, owner))
    const holder = this.keyOf(name)
    return client.hdel(holder, owner).then(this.#one, (error: unknown) => {
      // A string holder, written by a version before the hash holder: its own script.
      if (!isWrongType(error)) this.#fail(error, 'lock release', name)
      return runScript(client, RELEASE_STRING, 1, [holder, owner]).then(this.#one, (again) =>
        this.#fail(again, 'lock release', name),
      )
    })
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
   * The client to send a lock command on now, joining the connection's tick batching only when
   * there is something to batch with; `undefined` when the store is closed or a created client
   * is still warming up (`#later` then rejects or waits).
   */
  #client(): RedisClient | undefined {
    const connection = this.#connection
    if (connection.warming !== undefined) return undefined
    try {
      this.#guard()
    } catch {
      return undefined
    }
    // Batching costs a callback per tick (`process.nextTick`), and at concurrency 1 that was
    // most of what an acquire + release cost in this process beyond its two commands (callgrind:
    // ~5,400 instructions per pair). So a lock command joins it only when another command of
    // this backend is waiting for its reply (a burst, or concurrent holders), when the store
    // sent something this tick, or when the last tick was a burst.
    if (
      connection.cork &&
      (this.#pending > 0 || connection.tick !== undefined || connection.bursting)
    ) {
      batchWrites(connection)
    }
    this.#pending++
    return connection.client
  }

  /** Runs `call` once the connection is warm; rejects at once if the store is closed. */
  #later<T>(call: () => Promise<T>): Promise<T> {
    try {
      this.#guard()
    } catch (error) {
      return Promise.reject(error)
    }
    return (this.#connection.warming ?? Promise.resolve()).then(call)
  }

  #fail(error: unknown, operation: string, name: string): never {
    this.#pending--
    throw toCellarError(error, operation, name)
  }

  /** EVALSHA, and EVAL only after a NOSCRIPT; for the calls that are not latency-bound. */
  async #run<T>(
    operation: string,
    name: string,
    script: LuaScript,
    keyCount: number,
    args: string[],
    read: (reply: unknown) => T,
  ): Promise<T> {
    this.#guard()
    const connection = this.#connection
    if (connection.warming !== undefined) await connection.warming
    if (connection.cork) batchWrites(connection)
    try {
      return read(await runScript(connection.client, script, keyCount, args))
    } catch (error) {
      throw toCellarError(error, operation, name)
    }
  }
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE')
}

function isOne(reply: unknown): boolean {
  return reply === 1
}

function toState(reply: unknown): LockState | undefined {
  if (isNil(reply)) return undefined
  const [owner, pttl] = reply as [string, number]
  return { owner, remainingMs: pttl < 0 ? null : pttl }
}
