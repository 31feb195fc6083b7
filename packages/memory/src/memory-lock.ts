import { type FencingToken, type LockBackend, type LockState, scopedKey } from '@cellar/core'

// One record per lock name, kept after release: the fencing counter must outlive its holders,
// and reusing the record makes an acquire + release one Map lookup each (no new holder object,
// no second Map for the counter).
interface LockRecord {
  // undefined while nobody holds the lock.
  owner: string | undefined
  expiresAt: number | null
  fence: number
}

/**
 * Process-local lock primitives. Every method runs synchronously before it resolves, so each
 * compare-and-act is atomic within the process (the only scope this store shares).
 */
export class MemoryLockBackend implements LockBackend {
  readonly #locks = new Map<string, LockRecord>()
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    // One clock reading for the liveness check and the new expiry.
    const now = this.#now()
    const expiresAt = ttlMs === null ? null : now + ttlMs
    const record = this.#locks.get(name)
    if (record === undefined) {
      this.#locks.set(name, { owner, expiresAt, fence: 1 })
      return 1
    }
    if (isLive(record, now)) return false
    record.owner = owner
    record.expiresAt = expiresAt
    return ++record.fence
  }

  async release(name: string, owner: string): Promise<boolean> {
    const record = this.#locks.get(name)
    if (record === undefined || record.owner !== owner) return false
    // Owned or expired, the holder goes; only a live one counts as released.
    const released = isLive(record, this.#now())
    record.owner = undefined
    return released
  }

  async forceRelease(name: string): Promise<void> {
    const record = this.#locks.get(name)
    if (record !== undefined) record.owner = undefined
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const now = this.#now()
    const record = this.#locks.get(name)
    if (record === undefined || record.owner !== owner || !isLive(record, now)) return false
    record.expiresAt = ttlMs === null ? null : now + ttlMs
    return true
  }

  async inspect(name: string): Promise<LockState | undefined> {
    const now = this.#now()
    const record = this.#locks.get(name)
    if (record === undefined || !isLive(record, now)) return undefined
    return {
      owner: record.owner,
      remainingMs: record.expiresAt === null ? null : Math.max(0, record.expiresAt - now),
    }
  }
}

// Held, and not expired at `now`.
function isLive(record: LockRecord, now: number): record is LockRecord & { owner: string } {
  return record.owner !== undefined && (record.expiresAt === null || record.expiresAt > now)
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
