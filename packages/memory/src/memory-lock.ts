import { type FencingToken, type LockBackend, type LockState, scopedKey } from '@cellar/core'

interface Holder {
  owner: string
  expiresAt: number | null
}

/**
 * Process-local lock primitives. Every method runs synchronously before it resolves, so each
 * compare-and-act is atomic within the process (the only scope this store shares).
 */
export class MemoryLockBackend implements LockBackend {
  readonly #holders = new Map<string, Holder>()
  // Fencing counters outlive release so tokens keep increasing for a name; one number per name.
  readonly #fences = new Map<string, number>()
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    // One clock reading for the liveness check and the new expiry.
    const now = this.#now()
    if (this.#live(name, now) !== undefined) return false
    this.#holders.set(name, { owner, expiresAt: ttlMs === null ? null : now + ttlMs })
    const token = (this.#fences.get(name) ?? 0) + 1
    this.#fences.set(name, token)
    return token
  }

  async release(name: string, owner: string): Promise<boolean> {
    if (this.#live(name, this.#now())?.owner !== owner) return false
    this.#holders.delete(name)
    return true
  }

  async forceRelease(name: string): Promise<void> {
    this.#holders.delete(name)
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const now = this.#now()
    const holder = this.#live(name, now)
    if (holder?.owner !== owner) return false
    holder.expiresAt = ttlMs === null ? null : now + ttlMs
    return true
  }

  async inspect(name: string): Promise<LockState | undefined> {
    const now = this.#now()
    const holder = this.#live(name, now)
    if (holder === undefined) return undefined
    return {
      owner: holder.owner,
      remainingMs: holder.expiresAt === null ? null : Math.max(0, holder.expiresAt - now),
    }
  }

  // The holder of `name` if live at `now`; an expired one is dropped.
  #live(name: string, now: number): Holder | undefined {
    const holder = this.#holders.get(name)
    if (holder?.expiresAt != null && holder.expiresAt <= now) {
      this.#holders.delete(name)
      return undefined
    }
    return holder
  }
}

/**
 * One store's view of the shared lock backend: names scoped with core's `scopedKey` under the
 * store's prefix (so a namespace's locks are its own), and every call refused once that store
 * or its root is closed — also through lock handles made before `close()`. Each method hands
 * back the backend's own promise: an `async` wrapper resolving with it would add a promise and
 * two microtask turns to every lock call.
 */
export class ScopedLockBackend implements LockBackend {
  readonly #backend: MemoryLockBackend
  readonly #prefix: string
  readonly #open: () => void

  constructor(backend: MemoryLockBackend, prefix: string, open: () => void) {
    this.#backend = backend
    this.#prefix = prefix
    this.#open = open
  }

  acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    const refused = this.#refused()
    if (refused !== undefined) return refused
    return this.#backend.acquire(scopedKey(this.#prefix, name), owner, ttlMs)
  }

  release(name: string, owner: string): Promise<boolean> {
    const refused = this.#refused()
    if (refused !== undefined) return refused
    return this.#backend.release(scopedKey(this.#prefix, name), owner)
  }

  forceRelease(name: string): Promise<void> {
    const refused = this.#refused()
    if (refused !== undefined) return refused
    return this.#backend.forceRelease(scopedKey(this.#prefix, name))
  }

  extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const refused = this.#refused()
    if (refused !== undefined) return refused
    return this.#backend.extend(scopedKey(this.#prefix, name), owner, ttlMs)
  }

  inspect(name: string): Promise<LockState | undefined> {
    const refused = this.#refused()
    if (refused !== undefined) return refused
    return this.#backend.inspect(scopedKey(this.#prefix, name))
  }

  // A rejected promise when the store is closed (the check throws), else undefined.
  #refused(): Promise<never> | undefined {
    try {
      this.#open()
      return undefined
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
