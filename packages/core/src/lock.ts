import { randomFillSync } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Duration, parseDuration } from './duration.js'
import { InvalidArgumentError, LockNotOwnedError, LockTimeoutError } from './errors.js'
import { assertKey } from './keys.js'
import { isLockTracing, type LockOperation, traceLockCall } from './tracing.js'

/** A strictly increasing number handed out by every successful acquire of one lock name. */
export type FencingToken = number

/** What a lock's holder looks like from the outside. */
export interface LockState {
  /** The owner token of the current holder. */
  readonly owner: string
  /** Milliseconds until the lock expires, or `null` if it never does. */
  readonly remainingMs: number | null
}

/**
 * The five primitives a store implements to offer locks; `Lock` builds everything else
 * (blocking, run, dispose, restore) on top. Each must be atomic on the backend.
 */
export interface LockBackend {
  /** Takes the lock if free or expired; resolves the new fencing token, or false if held. */
  acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false>
  /** Removes the lock only if `owner` holds it; resolves whether it did. */
  release(name: string, owner: string): Promise<boolean>
  /** Removes the lock whoever holds it. */
  forceRelease(name: string): Promise<void>
  /** Resets the expiry to `ttlMs` from now only if `owner` holds it; resolves whether it did. */
  extend(name: string, owner: string, ttlMs: number | null): Promise<boolean>
  /** Resolves the current holder, or undefined when the lock is free. */
  inspect(name: string): Promise<LockState | undefined>
}

export interface LockOptions {
  /**
   * How long the lock lives unless extended; `null` holds it until released.
   * @default '30s'
   */
  ttl?: Duration | null
  /** An existing owner token, to restore a lock acquired elsewhere (another process). */
  owner?: string
  /**
   * Pause between attempts in `block()`; jitter of up to the same amount is added.
   * @default 50
   */
  retryInterval?: Duration
}

// Owner tokens are cut from one buffer of crypto-random bytes, refilled when used up: one
// syscall per 256 tokens (randomUUID batches the same way, but formats its 36 characters in
// JavaScript, about 60% more instructions per token than Buffer's native hex).
const OWNER_BYTES = 16
const pool = Buffer.allocUnsafe(OWNER_BYTES * 256)
let poolOffset = pool.length

/** A crypto-random owner token: 128 random bits as 32 lowercase hex characters. */
export function randomOwner(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const start = poolOffset
  poolOffset += OWNER_BYTES
  return pool.toString('hex', start, poolOffset)
}

/**
 * A named lock held through a store's `LockBackend`. A refused `acquire` is the value `false`;
 * `release`/`extend` by someone who no longer holds it throw `E_LOCK_NOT_OWNED`.
 */
export class Lock implements AsyncDisposable {
  readonly name: string
  /** The owner token; pass it to `store.lock(name, { owner })` in another process to restore. */
  readonly owner: string
  readonly #backend: LockBackend
  readonly #ttlMs: number | null
  readonly #retryMs: number
  #token: FencingToken | undefined

  constructor(backend: LockBackend, name: string, options: LockOptions = {}) {
    assertKey(name)
    this.#backend = backend
    this.name = name
    this.owner = options.owner ?? randomOwner()
    if (typeof this.owner !== 'string' || this.owner.length === 0) {
      throw new InvalidArgumentError('[cellar] lock owner must be a non-empty string', {
        key: name,
      })
    }
    const ttl = options.ttl === undefined ? 30_000 : options.ttl
    this.#ttlMs = ttl === null ? null : parseDuration(ttl, 'lock ttl', name)
    if (this.#ttlMs !== null && this.#ttlMs <= 0) {
      throw new InvalidArgumentError(`[cellar] lock ttl must be positive, got ${this.#ttlMs}ms`, {
        key: name,
      })
    }
    this.#retryMs = parseDuration(options.retryInterval ?? 50, 'retryInterval', name)
  }

  /** The fencing token of this instance's last successful acquire. */
  get fencingToken(): FencingToken | undefined {
    return this.#token
  }

  /** Tries once; resolves the fencing token, or false if someone else holds the lock. */
  acquire(): Promise<FencingToken | false> {
    // One reaction on the backend's promise, not an async function's frame and promises: at
    // concurrency 1 a lock's code runs cold between round trips, where each step shows (issue
    // 18, benchmarks/redis). A backend that throws still makes a rejection, as before.
    let pending: Promise<FencingToken | false>
    try {
      pending = isLockTracing()
        ? this.#trace('acquire', () => this.#backend.acquire(this.name, this.owner, this.#ttlMs))
        : this.#backend.acquire(this.name, this.owner, this.#ttlMs)
    } catch (error) {
      return Promise.reject(error)
    }
    return pending.then((token) => {
      if (token !== false) this.#token = token
      return token
    })
  }

  /** Retries until acquired or `timeout` elapses; throws `E_LOCK_TIMEOUT` then. */
  async block(timeout: Duration): Promise<FencingToken> {
    const timeoutMs = parseDuration(timeout, 'block timeout', this.name)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const token = await this.acquire()
      if (token !== false) return token
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new LockTimeoutError(
          `[cellar] lock "${this.name}" still held by another owner after ${timeoutMs}ms`,
          { key: this.name },
        )
      }
      await sleep(Math.min(left, this.#retryMs + Math.random() * this.#retryMs))
    }
  }

  /** Releases the lock; throws `E_LOCK_NOT_OWNED` if this owner does not hold it. */
  release(): Promise<void> {
    let pending: Promise<boolean>
    try {
      pending = this.#release()
    } catch (error) {
      return Promise.reject(error)
    }
    return pending.then((released) => {
      if (!released) {
        throw new LockNotOwnedError(`[cellar] lock "${this.name}" is not held by this owner`, {
          key: this.name,
        })
      }
    })
  }

  /** Releases the lock whoever holds it. */
  async forceRelease(): Promise<void> {
    if (isLockTracing())
      await this.#trace('forceRelease', () => this.#backend.forceRelease(this.name))
    else await this.#backend.forceRelease(this.name)
  }

  /**
   * Resets the expiry to `ttl` (default: the lock's own ttl) from now, only while owned; `null`
   * makes it never expire. A lock created with `ttl: null` has no ttl to renew: `extend()`
   * without an argument throws `E_INVALID_ARGUMENT` there (pass the new ttl), on every store.
   */
  async extend(ttl?: Duration | null): Promise<void> {
    if (ttl === undefined && this.#ttlMs === null) {
      throw new InvalidArgumentError(
        `[cellar] lock "${this.name}" was created without a ttl; extend(ttl) needs the new ttl`,
        { key: this.name },
      )
    }
    const ms =
      ttl === undefined
        ? this.#ttlMs
        : ttl === null
          ? null
          : parseDuration(ttl, 'lock ttl', this.name)
    if (ms !== null && ms <= 0) {
      throw new InvalidArgumentError(`[cellar] lock ttl must be positive, got ${ms}ms`, {
        key: this.name,
      })
    }
    const extended = isLockTracing()
      ? this.#trace('extend', () => this.#backend.extend(this.name, this.owner, ms))
      : this.#backend.extend(this.name, this.owner, ms)
    if (!(await extended)) {
      throw new LockNotOwnedError(`[cellar] lock "${this.name}" is not held by this owner`, {
        key: this.name,
      })
    }
  }

  /** Resolves true if anyone holds the lock. */
  async isLocked(): Promise<boolean> {
    return (await this.#inspect()) !== undefined
  }

  /** Resolves true if this owner holds the lock. */
  async isOwned(): Promise<boolean> {
    return (await this.#inspect())?.owner === this.owner
  }

  /** Milliseconds until expiry: `undefined` when free, `null` when held without expiry. */
  async remainingTime(): Promise<number | null | undefined> {
    const state = await this.#inspect()
    return state === undefined ? undefined : state.remainingMs
  }

  /**
   * Acquires (waiting up to `timeout`, default 10s), runs `fn` with the fencing token, and
   * releases afterwards even when `fn` throws.
   */
  async run<T>(
    fn: (token: FencingToken) => T | Promise<T>,
    timeout: Duration = 10_000,
  ): Promise<T> {
    const token = await this.block(timeout)
    try {
      return await fn(token)
    } finally {
      await this.#release()
    }
  }

  /** Releases the lock if this owner still holds it; for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#release()
  }

  #release(): Promise<boolean> {
    if (!isLockTracing()) return this.#backend.release(this.name, this.owner)
    return this.#trace('release', () => this.#backend.release(this.name, this.owner))
  }

  #inspect(): Promise<LockState | undefined> {
    if (!isLockTracing()) return this.#backend.inspect(this.name)
    return this.#trace('inspect', () => this.#backend.inspect(this.name))
  }

  // A backend call inside the lock tracing channel; callers check isLockTracing() first, so an
  // untraced call builds no context and no closure.
  #trace<T>(operation: LockOperation, call: () => Promise<T>): Promise<T> {
    return traceLockCall({ operation, lock: this.name, owner: this.owner }, call)
  }
}
