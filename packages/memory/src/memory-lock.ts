import type { FencingToken, LockBackend, LockState } from '@cellar/core'

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
