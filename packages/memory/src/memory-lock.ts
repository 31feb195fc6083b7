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
    if (this.#live(name) !== undefined) return false
    this.#holders.set(name, { owner, expiresAt: ttlMs === null ? null : this.#now() + ttlMs })
    const token = (this.#fences.get(name) ?? 0) + 1
    this.#fences.set(name, token)
    return token
  }

  async release(name: string, owner: string): Promise<boolean> {
    if (this.#live(name)?.owner !== owner) return false
    this.#holders.delete(name)
    return true
  }

  async forceRelease(name: string): Promise<void> {
    this.#holders.delete(name)
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const holder = this.#live(name)
    if (holder?.owner !== owner) return false
    holder.expiresAt = ttlMs === null ? null : this.#now() + ttlMs
    return true
  }

  async inspect(name: string): Promise<LockState | undefined> {
    const holder = this.#live(name)
    if (holder === undefined) return undefined
    return {
      owner: holder.owner,
      remainingMs: holder.expiresAt === null ? null : Math.max(0, holder.expiresAt - this.#now()),
    }
  }

  #live(name: string): Holder | undefined {
    const holder = this.#holders.get(name)
    if (holder?.expiresAt != null && holder.expiresAt <= this.#now()) {
      this.#holders.delete(name)
      return undefined
    }
    return holder
  }
}

/**
 * One store's view of the shared lock backend: names scoped with core's `scopedKey` under the
 * store's prefix (so a namespace's locks are its own), and every call refused once that store
 * or its root is closed — also through lock handles made before `close()`.
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

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    this.#open()
    return this.#backend.acquire(scopedKey(this.#prefix, name), owner, ttlMs)
  }

  async release(name: string, owner: string): Promise<boolean> {
    this.#open()
    return this.#backend.release(scopedKey(this.#prefix, name), owner)
  }

  async forceRelease(name: string): Promise<void> {
    this.#open()
    return this.#backend.forceRelease(scopedKey(this.#prefix, name))
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    this.#open()
    return this.#backend.extend(scopedKey(this.#prefix, name), owner, ttlMs)
  }

  async inspect(name: string): Promise<LockState | undefined> {
    this.#open()
    return this.#backend.inspect(scopedKey(this.#prefix, name))
  }
}
