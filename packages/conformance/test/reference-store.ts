import {
  addToCounter,
  assertBytes,
  assertDelta,
  assertKey,
  encodeCounter,
  type IncrementOptions,
  InvalidArgumentError,
  InvalidKeyError,
  Lock,
  type LockBackend,
  type LockOptions,
  namespacePrefix,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  scopedKey,
  type Ttl,
  UnsupportedError,
  unscopedKey,
} from '@cellar/core'
import { type Entry, type Fault, Shared } from './reference-shared.js'

export type { Fault } from './reference-shared.js'

/**
 * A small, correct store over a Map, used to prove every group of the suite can pass. A test
 * fixture only: the real stores live in their own packages.
 */
export interface ReferenceStoreOptions {
  raw?: boolean
  maxKeyLength?: number
  maxValueSize?: number
  /** Declared `readsTtl`; when false `ttl()` of a live key throws `E_UNSUPPORTED`. */
  readsTtl?: boolean
  /** The clock deciding expiry, in milliseconds (inject one to move time by hand). */
  now?: () => number
  /** Bugs to switch on, so the meta-test can prove the suite catches them. */
  faults?: readonly Fault[]
}

// Open/closed state shared by a root store and every namespace made from it.
interface Root {
  closed: boolean
}

// What namespace() and sibling() hand to the constructor.
interface Inner {
  shared: Shared
  root: Root
  prefix: string
  // The pre-contract-2 prefix of this namespace (`parent + name + ':'`), for the clear fault.
  legacy: string | undefined
  // A root (constructed, or a sibling client) closes everything made from it.
  ownsRoot: boolean
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ReferenceStore implements Store<unknown>, AsyncDisposable {
  readonly name = 'reference'
  readonly capabilities: StoreCapabilities
  readonly #options: ReferenceStoreOptions
  readonly #shared: Shared
  readonly #root: Root
  readonly #ownsRoot: boolean
  readonly #prefix: string
  readonly #legacy: string | undefined
  readonly #faults: ReadonlySet<Fault>
  #closed = false

  constructor(options: ReferenceStoreOptions = {}, inner?: Inner) {
    this.#options = options
    this.#faults = new Set(options.faults)
    this.#shared = inner?.shared ?? new Shared(this.#faults, options.now ?? Date.now)
    this.#root = inner?.root ?? { closed: false }
    this.#ownsRoot = inner?.ownsRoot ?? true
    this.#prefix = inner?.prefix ?? ''
    this.#legacy = inner?.legacy
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
      readsTtl: options.readsTtl ?? true,
      listsKeys: true,
      evicts: false,
    })
  }

  /** Another client (its own root) over the same entries and locks, for cross-client tests. */
  sibling(): ReferenceStore {
    return new ReferenceStore(this.#options, {
      shared: this.#shared,
      root: { closed: false },
      prefix: this.#prefix,
      legacy: this.#legacy,
      ownsRoot: true,
    })
  }

  async get(key: string): Promise<unknown> {
    this.#check(key)
    return this.#out(this.#shared.live(this.#full(key)))
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    this.#checkMany(keys)
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
      this.#checkKey(key)
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
    return this.#remove(this.#full(key))
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#checkMany(keys)
    let removed = 0
    for (const key of keys) if (this.#remove(this.#full(key))) removed++
    return removed
  }

  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = this.#ttl(options?.ttl, key)
    const full = this.#full(key)
    const entry = this.#shared.live(full)
    if (entry === undefined && ms !== null && ms <= 0) return delta
    const current = entry === undefined ? 0 : this.#counter(entry.value, key)
    if (this.#faults.has('racy-increment')) await new Promise(setImmediate)
    const next = this.#faults.has('overflow-applied')
      ? current + delta
      : addToCounter(current, delta, key)
    const value = this.capabilities.raw ? next : encodeCounter(next)
    this.#shared.entries.set(full, { value, expiresAt: this.#counterExpiry(entry, ms) })
    // The overflow fault writes first and complains afterwards, as memcached's incr does.
    if (!Number.isSafeInteger(next)) addToCounter(current, delta, key)
    return next
  }

  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = this.#ttl(ttl, key)
    const full = this.#full(key)
    const entry = this.#faults.has('touch-revives-expired')
      ? this.#shared.entries.get(full)
      : this.#shared.live(full)
    if (entry === undefined) return false
    if (ms !== null && ms <= 0) this.#shared.entries.delete(full)
    else entry.expiresAt = ms === null ? null : this.#shared.now() + ms
    return true
  }

  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    const stored = this.#faults.has('ttl-off-by-prefix') ? key : this.#full(key)
    const entry = this.#shared.live(stored)
    if (entry === undefined) return undefined
    if (!this.capabilities.readsTtl) {
      throw new UnsupportedError(`[cellar:reference] ttl of "${key}" cannot be read`, { key })
    }
    if (entry.expiresAt === null) return null
    return Math.max(1, Math.ceil(entry.expiresAt - this.#shared.now()))
  }

  async *keys(): AsyncIterable<string> {
    this.#open()
    for (const stored of [...this.#shared.entries.keys()]) {
      const key = unscopedKey(this.#prefix, stored)
      if (key !== undefined && this.#shared.live(stored) !== undefined) yield key
    }
  }

  async clear(): Promise<void> {
    this.#open()
    const escaped = this.#prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    // The LIKE fault treats the prefix as a pattern, as an unescaped SQL LIKE would.
    const like = new RegExp(`^${escaped.replaceAll('%', '.*').replaceAll('_', '.')}`)
    const legacy = this.#faults.has('namespace-clear-hits-root') ? this.#legacy : undefined
    for (const key of [...this.#shared.entries.keys()]) {
      const mine = this.#faults.has('clear-like-pattern')
        ? like.test(key)
        : this.#faults.has('clear-ignores-prefix') ||
          key.startsWith(this.#prefix) ||
          (legacy !== undefined && key.startsWith(legacy))
      if (mine) this.#shared.entries.delete(key)
    }
  }

  namespace(name: string): ReferenceStore {
    this.#checkKey(name)
    const legacy = `${this.#prefix}${name}:`
    const lossy = this.#faults.has('accepts-lone-surrogates')
    const prefix = this.#faults.has('namespace-aliases-root')
      ? legacy
      : namespacePrefix(this.#prefix, lossy ? decoder.decode(encoder.encode(name)) : name)
    return new ReferenceStore(this.#options, {
      shared: this.#shared,
      root: this.#root,
      prefix,
      legacy,
      ownsRoot: false,
    })
  }

  lock(name: string, options?: LockOptions): Lock {
    this.#checkKey(name)
    return new Lock(this.#lockBackend(), name, options)
  }

  /** Closes this handle; closing the root closes every namespace and lock made from it. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsRoot) this.#root.closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #lockBackend(): LockBackend {
    const shared = this.#shared
    const at = (name: string) => scopedKey(this.#prefix, name)
    const open = () => {
      if (!this.#faults.has('lock-outlives-close')) this.#open()
    }
    return {
      acquire: async (name, owner, ttlMs) => {
        open()
        return shared.acquire(at(name), owner, ttlMs)
      },
      release: async (name, owner) => {
        open()
        return shared.release(at(name), owner)
      },
      forceRelease: async (name) => {
        open()
        shared.forceRelease(at(name))
      },
      extend: async (name, owner, ttlMs) => {
        open()
        return shared.extend(at(name), owner, ttlMs)
      },
      inspect: async (name) => {
        open()
        return shared.inspect(at(name))
      },
    }
  }

  // A removed entry counts only if it was live; the fault counts an expired one too.
  #remove(full: string): boolean {
    if (this.#faults.has('delete-expired-true')) return this.#shared.entries.delete(full)
    const present = this.#shared.live(full) !== undefined
    this.#shared.entries.delete(full)
    return present
  }

  #counter(value: unknown, key: string): number {
    if (!this.#faults.has('lenient-counters')) return requireCounter(value, key)
    const text = (
      typeof value === 'number' ? String(value) : decoder.decode(value as Uint8Array)
    ).trim()
    const parsed = Number(text)
    return text === '' || !Number.isSafeInteger(parsed) ? requireCounter(value, key) : parsed
  }

  #counterExpiry(entry: Entry | undefined, ms: number | null): number | null {
    const created = ms === null ? null : this.#shared.now() + ms
    if (entry === undefined)
      return this.#faults.has('increment-ignores-create-ttl') ? null : created
    if (this.#faults.has('increment-drops-ttl')) return null
    return this.#faults.has('increment-ttl-on-existing') ? created : entry.expiresAt
  }

  #full(key: string): string {
    let stored = this.#faults.has('case-insensitive-keys') ? key.toLowerCase() : key
    // A UTF-8 backend turns a lone surrogate into U+FFFD; the fault lets that through.
    if (this.#faults.has('accepts-lone-surrogates')) stored = decoder.decode(encoder.encode(stored))
    return this.#faults.has('no-tilde-escape') || this.#faults.has('namespace-aliases-root')
      ? this.#prefix + stored
      : scopedKey(this.#prefix, stored)
  }

  #ttl(ttl: Ttl, key?: string): number | null {
    if (this.#faults.has('nan-ttl-is-forever') && Number.isNaN(ttl)) return null
    return resolveTtl(ttl, null, key)
  }

  #write(key: string, value: unknown, ms: number | null): void {
    if (this.#faults.has('ignores-ttl') && ms !== null && ms > 0) ms = null
    if (ms !== null && ms <= 0) this.#shared.entries.delete(this.#full(key))
    else {
      const expiresAt = ms === null ? null : this.#shared.now() + ms
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
    if (this.#faults.has('no-closed-check')) return
    const seesRoot = this.#ownsRoot || !this.#faults.has('closed-root-keeps-namespaces')
    if (this.#closed || (this.#root.closed && seesRoot)) {
      throw new StoreClosedError('[cellar:reference] store is closed')
    }
  }

  #checkKey(key: string): void {
    if (!this.#faults.has('accepts-lone-surrogates')) {
      assertKey(key, this.capabilities.maxKeyLength)
    } else if (typeof key !== 'string' || key.length === 0) {
      throw new InvalidKeyError('[cellar:reference] key must be a non-empty string', { key })
    }
  }

  #check(key: string): void {
    this.#open()
    this.#checkKey(key)
  }

  #checkMany(keys: readonly string[]): void {
    this.#open()
    if (!Array.isArray(keys)) {
      throw new InvalidArgumentError(`[cellar:reference] keys must be an array, got ${typeof keys}`)
    }
    for (const key of keys) this.#checkKey(key)
  }
}
