import type { Duration, FencingToken, Lock } from '@cellar/core'
import type { CacheEmitter } from './emitter.js'

/**
 * A core `Lock` with Laravel's method names as well: `get(callback?)`, `block(timeout,
 * callback?)`, `release()`, `forceRelease()`, `owner()`. Durations are cellar durations
 * (milliseconds or `'10s'`), not Laravel's seconds. Releasing a lock you no longer hold throws
 * `E_LOCK_NOT_OWNED` (Laravel returns false).
 */
export class CacheLock {
  /** The core lock underneath (fencing token, `extend`, `isLocked`, `run`, `await using`). */
  readonly lock: Lock
  readonly #store: string
  readonly #events: CacheEmitter

  constructor(lock: Lock, store: string, events: CacheEmitter) {
    this.lock = lock
    this.#store = store
    this.#events = events
  }

  /** The lock's name. */
  get name(): string {
    return this.lock.name
  }

  /** The owner token; `cache.restoreLock(name, owner)` continues the lock elsewhere. */
  owner(): string {
    return this.lock.owner
  }

  /**
   * Tries once. Without a callback: resolves the fencing token, or false if held elsewhere.
   * With one: runs it while holding the lock and releases after, resolving its result (or
   * false when the lock was not acquired).
   */
  get(): Promise<FencingToken | false>
  get<T>(callback: (token: FencingToken) => T | Promise<T>): Promise<T | false>
  async get<T>(callback?: (token: FencingToken) => T | Promise<T>): Promise<unknown> {
    const token = await this.lock.acquire()
    if (token === false) return false
    this.#acquired(token)
    if (callback === undefined) return token
    try {
      return await callback(token)
    } finally {
      await this.release()
    }
  }

  /**
   * Waits up to `timeout` for the lock (`E_LOCK_TIMEOUT` past it). Without a callback: resolves
   * the fencing token; with one: runs it, releases, and resolves its result.
   */
  block(timeout: Duration): Promise<FencingToken>
  block<T>(timeout: Duration, callback: (token: FencingToken) => T | Promise<T>): Promise<T>
  async block<T>(
    timeout: Duration,
    callback?: (token: FencingToken) => T | Promise<T>,
  ): Promise<unknown> {
    const token = await this.lock.block(timeout)
    this.#acquired(token)
    if (callback === undefined) return token
    try {
      return await callback(token)
    } finally {
      await this.release()
    }
  }

  /** Same as `get()` without a callback. */
  acquire(): Promise<FencingToken | false> {
    return this.get()
  }

  /** Releases the lock; throws `E_LOCK_NOT_OWNED` if this owner no longer holds it. */
  async release(): Promise<void> {
    await this.lock.release()
    this.#events.emit('lockReleased', { store: this.#store, name: this.name, owner: this.owner() })
  }

  /** Releases the lock whoever holds it. */
  async forceRelease(): Promise<void> {
    await this.lock.forceRelease()
    this.#events.emit('lockReleased', { store: this.#store, name: this.name, owner: this.owner() })
  }

  /** Resolves true if anyone holds the lock. */
  isLocked(): Promise<boolean> {
    return this.lock.isLocked()
  }

  #acquired(token: FencingToken): void {
    this.#events.emit('lockAcquired', {
      store: this.#store,
      name: this.name,
      owner: this.owner(),
      token,
    })
  }
}
