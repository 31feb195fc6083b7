import {
  addToCounter,
  assertDelta,
  assertKey,
  assertKeys,
  type IncrementOptions,
  Lock,
  type LockBackend,
  type LockOptions,
  type LockState,
  namespacePrefix,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  scopedKey,
  type Ttl,
  unscopedKey,
} from '@cellar/core'

interface Entry {
  value: unknown
  expiresAt: number | null
}

interface Held {
  owner: string
  expiresAt: number | null
}

interface Shared {
  readonly entries: Map<string, Entry>
  readonly locks: Map<string, Held>
  readonly fences: Map<string, number>
  closed: boolean
}

const capabilities: StoreCapabilities = Object.freeze({
  atomicCounters: true,
  atomicAdd: true,
  locks: true,
  sharedAcrossProcesses: false,
  persistent: false,
  retainsValues: true,
  raw: true,
  maxKeyLength: Number.POSITIVE_INFINITY,
  maxValueSize: Number.POSITIVE_INFINITY,
  ttlPrecision: 1,
  readsTtl: true,
  listsKeys: true,
  evicts: false,
})

function live(entry: Entry | undefined, now: number): entry is Entry {
  return entry !== undefined && (entry.expiresAt === null || now <= entry.expiresAt)
}

/**
 * The in-process store behind `cache.fake()`: a plain `Map` with millisecond TTLs and
 * process-local locks, unbounded (a test cache must not evict what a test asserts on). Not a
 * production store: use `@cellar/memory` for that.
 */
export class FakeStore implements Store<unknown> {
  readonly name = 'fake'
  readonly capabilities = capabilities
  static #handoff: Shared | undefined
  readonly #shared: Shared
  readonly #prefix: string
  #closed = false

  constructor(prefix = '') {
    const handed = FakeStore.#handoff
    FakeStore.#handoff = undefined
    this.#shared = handed ?? {
      entries: new Map(),
      locks: new Map(),
      fences: new Map(),
      closed: false,
    }
    this.#prefix = prefix
  }

  async get(key: string): Promise<unknown> {
    return this.#read(key)
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    this.#open()
    assertKeys(keys)
    return keys.map((key) => this.#read(key))
  }

  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    this.#check(key)
    this.#write(key, value, resolveTtl(ttl, null, key))
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    this.#open()
    const ms = resolveTtl(ttl)
    for (const [key] of entries) assertKey(key)
    for (const [key, value] of entries) this.#write(key, value, ms)
  }

  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, null, key)
    if (this.#read(key) !== undefined) return false
    this.#write(key, value, ms)
    return ms === null || ms > 0
  }

  async has(key: string): Promise<boolean> {
    return this.#read(key) !== undefined
  }

  async delete(key: string): Promise<boolean> {
    const found = this.#read(key) !== undefined
    this.#shared.entries.delete(scopedKey(this.#prefix, key))
    return found
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    let removed = 0
    for (const key of keys) if (await this.delete(key)) removed++
    return removed
  }

  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = resolveTtl(options?.ttl, null, key)
    const current = this.#read(key)
    if (current === undefined) {
      if (ms === null || ms > 0) this.#write(key, delta, ms)
      return delta
    }
    const next = addToCounter(requireCounter(current, key), delta, key)
    this.#shared.entries.get(scopedKey(this.#prefix, key))!.value = next
    return next
  }

  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, null, key)
    const entry = this.#shared.entries.get(scopedKey(this.#prefix, key))
    if (!live(entry, Date.now())) return false
    if (ms !== null && ms <= 0) this.#shared.entries.delete(scopedKey(this.#prefix, key))
    else entry.expiresAt = ms === null ? null : Date.now() + ms
    return true
  }

  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    const entry = this.#shared.entries.get(scopedKey(this.#prefix, key))
    const now = Date.now()
    if (!live(entry, now)) return undefined
    return entry.expiresAt === null ? null : Math.max(1, Math.ceil(entry.expiresAt - now))
  }

  async *keys(): AsyncIterable<string> {
    this.#open()
    const now = Date.now()
    for (const [stored, entry] of this.#shared.entries) {
      const key = unscopedKey(this.#prefix, stored)
      if (key !== undefined && live(entry, now)) yield key
    }
  }

  async clear(): Promise<void> {
    this.#open()
    for (const stored of [...this.#shared.entries.keys()]) {
      if (stored.startsWith(this.#prefix)) this.#shared.entries.delete(stored)
    }
  }

  namespace(name: string): FakeStore {
    this.#open()
    FakeStore.#handoff = this.#shared
    return new FakeStore(namespacePrefix(this.#prefix, name))
  }

  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#backend(), scopedKey(this.#prefix, name), options)
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#prefix === '') this.#shared.closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #backend(): LockBackend {
    const { locks, fences } = this.#shared
    const held = (name: string): Held | undefined => {
      const lock = locks.get(name)
      return lock !== undefined && (lock.expiresAt === null || Date.now() <= lock.expiresAt)
        ? lock
        : undefined
    }
    const expiry = (ttlMs: number | null) => (ttlMs === null ? null : Date.now() + ttlMs)
    return {
      acquire: async (name, owner, ttlMs) => {
        this.#open()
        if (held(name) !== undefined) return false
        locks.set(name, { owner, expiresAt: expiry(ttlMs) })
        const token = (fences.get(name) ?? 0) + 1
        fences.set(name, token)
        return token
      },
      release: async (name, owner) => {
        this.#open()
        if (held(name)?.owner !== owner) return false
        return locks.delete(name)
      },
      forceRelease: async (name) => {
        this.#open()
        locks.delete(name)
      },
      extend: async (name, owner, ttlMs) => {
        this.#open()
        const lock = held(name)
        if (lock?.owner !== owner) return false
        lock.expiresAt = expiry(ttlMs)
        return true
      },
      inspect: async (name): Promise<LockState | undefined> => {
        this.#open()
        const lock = held(name)
        if (lock === undefined) return undefined
        return {
          owner: lock.owner,
          remainingMs: lock.expiresAt === null ? null : lock.expiresAt - Date.now(),
        }
      },
    }
  }

  #read(key: string): unknown {
    this.#check(key)
    const entry = this.#shared.entries.get(scopedKey(this.#prefix, key))
    return live(entry, Date.now()) ? entry.value : undefined
  }

  #write(key: string, value: unknown, ms: number | null): void {
    const stored = scopedKey(this.#prefix, key)
    if (ms !== null && ms <= 0) this.#shared.entries.delete(stored)
    else
      this.#shared.entries.set(stored, { value, expiresAt: ms === null ? null : Date.now() + ms })
  }

  #open(): void {
    if (this.#closed || this.#shared.closed)
      throw new StoreClosedError('[cellar:fake] store is closed')
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
