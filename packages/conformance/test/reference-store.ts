import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  encodeCounter,
  type FencingToken,
  InvalidArgumentError,
  Lock,
  type LockBackend,
  type LockOptions,
  type LockState,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'

/**
 * A small, correct store over a Map, used to prove every group of the suite can pass. A test
 * fixture only: the real stores live in their own packages.
 */
export interface ReferenceStoreOptions {
  raw?: boolean
  maxKeyLength?: number
  maxValueSize?: number
  /** Bugs to switch on, so the meta-test can prove the suite catches them. */
  faults?: readonly Fault[]
}

/** One deliberate bug of the fixture. */
export type Fault =
  | 'ignores-ttl'
  | 'empty-value-is-miss'
  | 'racy-increment'
  | 'increment-drops-ttl'
  | 'clear-ignores-prefix'
  | 'clear-like-pattern'
  | 'getmany-drops-duplicates'
  | 'case-insensitive-keys'
  | 'lossy-utf8-values'
  | 'partial-setmany'
  | 'nan-ttl-is-forever'
  | 'no-closed-check'
  | 'release-any-owner'
  | 'fencing-restarts'

interface Entry {
  value: unknown
  expiresAt: number | null
}

interface Holder {
  owner: string
  expiresAt: number | null
}

class Shared implements LockBackend {
  readonly entries = new Map<string, Entry>()
  readonly holders = new Map<string, Holder>()
  readonly fences = new Map<string, number>()

  constructor(readonly faults: ReadonlySet<Fault>) {}

  live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry?.expiresAt != null && entry.expiresAt <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry
  }

  holder(name: string): Holder | undefined {
    const holder = this.holders.get(name)
    if (holder?.expiresAt != null && holder.expiresAt <= Date.now()) {
      this.holders.delete(name)
      return undefined
    }
    return holder
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    if (this.holder(name) !== undefined) return false
    this.holders.set(name, { owner, expiresAt: ttlMs === null ? null : Date.now() + ttlMs })
    const token = (this.fences.get(name) ?? 0) + 1
    this.fences.set(name, token)
    return token
  }

  async release(name: string, owner: string): Promise<boolean> {
    const holder = this.holder(name)
    if (holder === undefined) return false
    if (holder.owner !== owner && !this.faults.has('release-any-owner')) return false
    this.holders.delete(name)
    if (this.faults.has('fencing-restarts')) this.fences.delete(name)
    return true
  }

  async forceRelease(name: string): Promise<void> {
    this.holders.delete(name)
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    const holder = this.holder(name)
    if (holder?.owner !== owner) return false
    holder.expiresAt = ttlMs === null ? null : Date.now() + ttlMs
    return true
  }

  async inspect(name: string): Promise<LockState | undefined> {
    const holder = this.holder(name)
    if (holder === undefined) return undefined
    const remainingMs = holder.expiresAt === null ? null : holder.expiresAt - Date.now()
    return { owner: holder.owner, remainingMs }
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ReferenceStore implements Store<unknown>, AsyncDisposable {
  readonly name = 'reference'
  readonly capabilities: StoreCapabilities
  readonly #options: ReferenceStoreOptions
  readonly #shared: Shared
  readonly #prefix: string
  readonly #faults: ReadonlySet<Fault>
  #closed = false

  constructor(options: ReferenceStoreOptions = {}, shared?: Shared, prefix = '') {
    this.#options = options
    this.#faults = new Set(options.faults)
    this.#shared = shared ?? new Shared(this.#faults)
    this.#prefix = prefix
    this.capabilities = Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: false,
      persistent: false,
      retainsValues: true,
      raw: options.raw ?? false,
      maxKeyLength: options.maxKeyLength ?? Number.POSITIVE_INFINITY,
      maxValueSize: options.maxValueSize ?? Number.POSITIVE_INFINITY,
      ttlPrecision: 1,
    })
  }

  /** Another client over the same entries and locks (for the cross-client tests). */
  sibling(): ReferenceStore {
    return new ReferenceStore(this.#options, this.#shared, this.#prefix)
  }

  async get(key: string): Promise<unknown> {
    this.#check(key)
    return this.#out(this.#shared.live(this.#full(key)))
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    this.#open()
    assertKeys(keys, this.capabilities.maxKeyLength)
    const asked = this.#faults.has('getmany-drops-duplicates') ? [...new Set(keys)] : keys
    return asked.map((key) => this.#out(this.#shared.live(this.#full(key))))
  }

  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    this.#check(key)
    const stored = this.#in(key, value)
    this.#write(key, stored, this.#ttl(ttl, key))
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    this.#open()
    const ms = this.#ttl(ttl)
    if (this.#faults.has('partial-setmany')) {
      for (const [key, value] of entries) await this.set(key, value, ttl)
      return
    }
    const prepared = entries.map(([key, value]) => {
      assertKey(key, this.capabilities.maxKeyLength)
      return [key, this.#in(key, value)] as const
    })
    for (const [key, value] of prepared) this.#write(key, value, ms)
  }

  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    const stored = this.#in(key, value)
    const ms = this.#ttl(ttl, key)
    if (this.#shared.live(this.#full(key)) !== undefined || (ms !== null && ms <= 0)) {
      return false
    }
    this.#write(key, stored, ms)
    return true
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return this.#shared.live(this.#full(key)) !== undefined
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    const present = this.#shared.live(this.#full(key)) !== undefined
    this.#shared.entries.delete(this.#full(key))
    return present
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys, this.capabilities.maxKeyLength)
    let removed = 0
    for (const key of keys) {
      if (this.#shared.live(this.#full(key)) === undefined) continue
      this.#shared.entries.delete(this.#full(key))
      removed++
    }
    return removed
  }

  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const entry = this.#shared.live(this.#full(key))
    const next = (entry === undefined ? 0 : requireCounter(entry.value, key)) + delta
    if (this.#faults.has('racy-increment')) await new Promise(setImmediate)
    if (!Number.isSafeInteger(next)) {
      throw new InvalidArgumentError(`[cellar:reference] counter "${key}" would overflow`, { key })
    }
    const value = this.capabilities.raw ? next : encodeCounter(next)
    const expiresAt = this.#faults.has('increment-drops-ttl') ? null : (entry?.expiresAt ?? null)
    this.#shared.entries.set(this.#full(key), { value, expiresAt })
    return next
  }

  async clear(): Promise<void> {
    this.#open()
    // The LIKE fault treats the prefix as a pattern, as an unescaped SQL LIKE would.
    const like = new RegExp(`^${this.#prefix.replaceAll('%', '.*').replaceAll('_', '.')}`)
    for (const key of [...this.#shared.entries.keys()]) {
      const mine = this.#faults.has('clear-like-pattern')
        ? like.test(key)
        : this.#faults.has('clear-ignores-prefix') || key.startsWith(this.#prefix)
      if (mine) this.#shared.entries.delete(key)
    }
  }

  namespace(name: string): ReferenceStore {
    assertKey(name)
    return new ReferenceStore(this.#options, this.#shared, `${this.#prefix}${name}:`)
  }

  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#shared, this.#prefix + name, options)
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #full(key: string): string {
    return this.#prefix + (this.#faults.has('case-insensitive-keys') ? key.toLowerCase() : key)
  }

  #ttl(ttl: Ttl, key?: string): number | null {
    if (this.#faults.has('nan-ttl-is-forever') && Number.isNaN(ttl)) return null
    return resolveTtl(ttl, null, key)
  }

  #write(key: string, value: unknown, ms: number | null): void {
    if (this.#faults.has('ignores-ttl') && ms !== null && ms > 0) ms = null
    if (ms !== null && ms <= 0) this.#shared.entries.delete(this.#full(key))
    else {
      const expiresAt = ms === null ? null : Date.now() + ms
      this.#shared.entries.set(this.#full(key), { value, expiresAt })
    }
  }

  #in(key: string, value: unknown): unknown {
    if (!this.capabilities.raw) {
      assertBytes(value, key, this.capabilities.maxValueSize)
      if (this.#faults.has('lossy-utf8-values')) return encoder.encode(decoder.decode(value))
      return value.slice()
    }
    if (value === undefined) {
      throw new InvalidArgumentError(`[cellar:reference] value for "${key}" is undefined`, { key })
    }
    return value
  }

  #out(entry: Entry | undefined): unknown {
    if (entry === undefined) return undefined
    const empty = (entry.value as { length?: number } | null)?.length === 0
    if (this.#faults.has('empty-value-is-miss') && empty) return undefined
    return this.capabilities.raw ? entry.value : (entry.value as Uint8Array).slice()
  }

  #open(): void {
    if (this.#closed && !this.#faults.has('no-closed-check'))
      throw new StoreClosedError('[cellar:reference] store is closed')
  }

  #check(key: string): void {
    this.#open()
    assertKey(key, this.capabilities.maxKeyLength)
  }
}
