import {
  addToCounter,
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  encodeCounter,
  type IncrementOptions,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  namespacePrefix,
  type RateLimitBackend,
  requireCounter,
  resolveTtl,
  type StoreCapabilities,
  StoreClosedError,
  scopedKey,
  type Ttl,
  unscopedKey,
} from '@cellar/core'
import { ScopedLockBackend } from './memory-lock.js'
import { ScopedRateLimitBackend } from './memory-rate-limit.js'
import type { MemoryStoreOptions, MemoryStore as MemoryStoreType } from './memory-store.js'
import { type RawEntry, rawEntry, settledRead } from './raw-entry.js'
import { createRoot, type Lru, type Root } from './root.js'

// Whether one handle is closed. A handle refuses calls once its own scope or an ancestor's is
// closed: closing the root closes every namespace, closing a namespace its nested ones.
interface Scope {
  closed: boolean
  readonly parent: Scope | undefined
}

interface Handoff {
  readonly root: Root
  readonly prefix: string
  readonly parent: Scope
}

const RESOLVED: Promise<void> = Promise.resolve()
// What getSettled answers a miss with: one promise, made once.
const MISS: Promise<undefined> = Promise.resolve(undefined)
// A key starting with `~` is stored escaped (core's scopedKey); any other un-prefixed key as is.
const MARK_CODE = 0x7e

/** The implementation behind `MemoryStore` (see `memory-store.ts` for the public types). */
export class MemoryStore<V> implements MemoryStoreType<V> {
  readonly name = 'memory'
  readonly capabilities: StoreCapabilities
  // namespace() hands the shared root over through this class-private slot (emptied at once).
  static #handoff: Handoff | undefined
  readonly #root: Root
  readonly #lru: Lru
  readonly #prefix: string
  // Copied from the root: read on every call, one load instead of two.
  readonly #raw: boolean
  readonly #ownsRoot: boolean
  readonly #scope: Scope
  // A namespace's stored key per caller key (see #full); at most the LRU's size, then emptied.
  readonly #fullKeys = new Map<string, string>()
  #locks: ScopedLockBackend | undefined

  constructor(options: MemoryStoreOptions = {}) {
    const handed = MemoryStore.#handoff
    MemoryStore.#handoff = undefined
    this.#ownsRoot = handed === undefined
    this.#scope = { closed: false, parent: handed?.parent }
    this.#root = handed?.root ?? createRoot(options)
    this.#prefix = handed?.prefix ?? options.prefix ?? ''
    if (typeof this.#prefix !== 'string') {
      throw new InvalidArgumentError('[cellar:memory] prefix must be a string')
    }
    this.#lru = this.#root.lru
    this.#raw = this.#root.raw
    this.capabilities = this.#root.capabilities
  }

  get(key: string): Promise<V | undefined> {
    try {
      return Promise.resolve(this.getSync(key))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `get` without a promise (this store answers in-process). */
  getSync(key: string): V | undefined {
    // The common cases of #open and #full written out, same results: inside a gateway's read,
    // lru-cache's get takes V8's inlining budget and the calls cost more than their work
    // (callgrind: an awaited getValue hit 1,617 -> 1,566 instructions, getValueSync 760 -> 750).
    const scope = this.#scope
    if (scope.closed || scope.parent !== undefined) this.#open()
    // Only keys that passed assertKey are ever stored, and scopedKey keeps them apart, so a hit
    // proves the key valid: the full check runs on a miss (or a non-string), not on every hit.
    if (typeof key !== 'string') assertKey(key)
    const full = this.#prefix === '' && key.charCodeAt(0) !== MARK_CODE ? key : this.#full(key)
    const value = this.#lru.get(full)
    if (value === undefined) {
      assertKey(key)
      return undefined
    }
    return this.#out(value)
  }

  /**
   * `get` as a settled promise of `read(value)` (of `undefined` on a miss). Raw mode keeps the
   * promise with the entry and hands it out again to calls with the same `read` until the
   * entry is written, removed, evicted or expires (never for a thenable, which each read adopts
   * afresh); byte mode reads a fresh copy every time and keeps nothing.
   */
  getSettled(key: string, read: (value: V) => unknown): Promise<unknown> {
    // getSync's lookup, written out again for the same reason (see there).
    const scope = this.#scope
    if (scope.closed || scope.parent !== undefined) this.#open()
    if (typeof key !== 'string') assertKey(key)
    const full = this.#prefix === '' && key.charCodeAt(0) !== MARK_CODE ? key : this.#full(key)
    const stored = this.#lru.get(full)
    if (stored === undefined) {
      assertKey(key)
      return MISS
    }
    if (!this.#raw) return Promise.resolve(read(this.#out(stored) as V))
    return settledRead(stored as RawEntry, read as (value: unknown) => unknown)
  }

  async getMany(keys: readonly string[]): Promise<Array<V | undefined>> {
    this.#open()
    assertKeys(keys)
    return keys.map((key) => this.#out(this.#lru.get(this.#full(key))))
  }

  set(key: string, value: V, ttl?: Ttl): Promise<void> {
    try {
      this.setSync(key, value, ttl)
      return RESOLVED
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `set` without a promise: written when it returns; bad input throws, writing nothing. */
  setSync(key: string, value: V, ttl?: Ttl): void {
    this.#check(key)
    const stored = this.#in(key, value)
    // A finite positive number of milliseconds (what callers pass) needs no parsing.
    const ms =
      typeof ttl === 'number' && ttl > 0 && ttl < Number.POSITIVE_INFINITY
        ? ttl
        : resolveTtl(ttl, this.#root.defaultTtl, key)
    this.#write(this.#full(key), stored, ms)
  }

  async setMany(entries: ReadonlyArray<readonly [string, V]>, ttl?: Ttl): Promise<void> {
    this.#open()
    // Check everything before the first write: a bad entry must leave the store untouched.
    const ms = resolveTtl(ttl, this.#root.defaultTtl)
    const prepared = entries.map(([key, value]) => {
      assertKey(key)
      return [this.#full(key), this.#in(key, value)] as const
    })
    for (const [full, value] of prepared) this.#write(full, value, ms)
  }

  async add(key: string, value: V, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    const stored = this.#in(key, value)
    const ms = resolveTtl(ttl, this.#root.defaultTtl, key)
    const full = this.#full(key)
    if (this.#live(full) !== undefined) return false
    this.#write(full, stored, ms)
    return ms === null || ms > 0
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return this.#lru.has(this.#full(key))
  }

  /** Resolves true only if a live entry was removed (an expired one is dropped, false). */
  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return this.#remove(this.#full(key))
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    let removed = 0
    for (const key of keys) if (this.#remove(this.#full(key))) removed++
    return removed
  }

  /**
   * Adds `delta` synchronously; a new counter takes `options.ttl` (else the default TTL) in the
   * same step, an existing one keeps its TTL. Refuses non-counters and results past the
   * safe-integer range with `E_NOT_A_NUMBER`, changing nothing.
   */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = resolveTtl(options?.ttl, this.#root.defaultTtl, key)
    const full = this.#full(key)
    const current = this.#live(full)
    if (current === undefined) {
      if (ms === null || ms > 0) this.#write(full, this.#counter(delta), ms)
      return delta
    }
    const next = addToCounter(requireCounter(this.#plain(current.value), key), delta, key)
    // noUpdateTTL keeps the remaining lifetime of an existing counter.
    this.#lru.set(full, this.#counter(next), { noUpdateTTL: true })
    return next
  }

  /** Replaces a live entry's TTL (`null` removes it, `<= 0` removes the entry); never revives one. */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, this.#root.defaultTtl, key)
    const full = this.#full(key)
    const entry = this.#live(full)
    if (entry === undefined) return false
    // A write with ttl <= 0 removes the entry; otherwise it sets the new expiry from now.
    this.#write(full, entry.value, ms)
    return true
  }

  /** Remaining milliseconds (rounded up), `null` without expiry, `undefined` when missing. */
  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    const entry = this.#live(this.#full(key))
    if (entry === undefined) return undefined
    return entry.ttl === undefined ? null : Math.max(1, Math.ceil(entry.ttl))
  }

  /** The live keys of this namespace, from a snapshot; a key removed meanwhile is skipped. */
  async *keys(): AsyncGenerator<string> {
    this.#open()
    const found: Array<readonly [string, string]> = []
    for (const full of this.#lru.keys()) {
      const key = unscopedKey(this.#prefix, full)
      if (key !== undefined) found.push([key, full])
    }
    for (const [key, full] of found) if (this.#lru.has(full)) yield key
  }

  /** Removes this namespace's entries and its nested namespaces'; never a lock. */
  async clear(): Promise<void> {
    this.#open()
    if (this.#prefix === '') return this.#lru.clear()
    for (const full of [...this.#lru.keys()])
      if (full.startsWith(this.#prefix)) this.#lru.delete(full)
  }

  /** A store sharing this one's LRU, locks and sweep, under core's `namespacePrefix`. */
  namespace(name: string): MemoryStore<V> {
    this.#open()
    const prefix = namespacePrefix(this.#prefix, name)
    MemoryStore.#handoff = { root: this.#root, prefix, parent: this.#scope }
    return new MemoryStore<V>()
  }

  /** A process-local lock, scoped to this namespace; refused once this store is closed. */
  lock(name: string, options?: LockOptions): Lock {
    this.#open()
    this.#locks ??= new ScopedLockBackend(this.#root.locks, this.#prefix, () => this.#open())
    return new Lock(this.#locks, name, options)
  }

  /** The native limiter step (core's reference step, run synchronously), scoped like `lock`. */
  rateLimiter(): RateLimitBackend {
    this.#open()
    return new ScopedRateLimitBackend(this.#root.limits, this.#prefix, this.#scope)
  }

  /**
   * Closes this store and the namespaces made from it (their lock handles included). The root
   * store (the one constructed) also stops the sweep and empties the LRU; a namespace releases
   * nothing shared.
   */
  async close(): Promise<void> {
    if (this.#scope.closed) return
    this.#scope.closed = true
    if (!this.#ownsRoot) return
    clearInterval(this.#root.timer)
    this.#root.timer = undefined
    this.#lru.clear()
    this.#root.limits.clear()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // lru-cache reads its clock for `start` on every set, even without a TTL, unless given one; a
  // write without expiry passes a dummy start (ignored when `ttl` is 0).
  #write(full: string, value: NonNullable<unknown>, ms: number | null): void {
    if (ms === null) this.#lru.set(full, value, { ttl: 0, start: 1 })
    else if (ms > 0) this.#lru.set(full, value, { ttl: Math.max(1, ms) })
    else this.#lru.delete(full)
  }

  // The entry at `full` if live by the exact clock (reads use lru-cache's cached reading, see
  // the README's caveats); an expired one is dropped. `ttl` is the remaining ms, if it expires.
  #live(full: string): { value: NonNullable<unknown>; ttl?: number } | undefined {
    const entry = this.#lru.info(full)
    if (entry?.ttl === undefined || entry.ttl >= 0) return entry
    this.#lru.delete(full)
    return undefined
  }

  // Where `key` is stored. A namespace builds `prefix + key` once per key and reuses it: a fresh
  // concatenation on every call makes V8 allocate, flatten and hash a new string before each
  // lookup, several times the cost of the lookup itself once the result is 13+ characters.
  // The memo holds only what scopedKey returns for that key, so it can never be wrong.
  #full(key: string): string {
    return this.#prefix === '' ? scopedKey('', key) : this.#memoized(key)
  }

  // Apart from #full so that the un-prefixed case stays small enough to inline.
  #memoized(key: string): string {
    let full = this.#fullKeys.get(key)
    if (full === undefined) {
      full = scopedKey(this.#prefix, key)
      if (this.#fullKeys.size >= this.#lru.max) this.#fullKeys.clear()
      this.#fullKeys.set(key, full)
    }
    return full
  }

  #remove(full: string): boolean {
    const live = this.#live(full) !== undefined
    this.#lru.delete(full)
    return live
  }

  #counter(value: number): NonNullable<unknown> {
    return this.#raw ? rawEntry(value) : encodeCounter(value)
  }

  #in(key: string, value: unknown): NonNullable<unknown> {
    if (!this.#raw) {
      assertBytes(value, key, this.capabilities.maxValueSize)
      return value.slice()
    }
    if (value === undefined) {
      throw new InvalidArgumentError(
        `[cellar:memory] value for key "${key}" must not be undefined; a miss reads as undefined`,
        { key },
      )
    }
    if (value === null) return rawEntry(null)
    const size = this.#root.sizeOf?.(value)
    if (size !== undefined && size > this.capabilities.maxValueSize) {
      throw new InvalidArgumentError(
        `[cellar:memory] value for key "${key}" is ${size} bytes; this store allows at most ${this.capabilities.maxValueSize}`,
        { key, code: 'E_VALUE_TOO_LARGE' },
      )
    }
    return rawEntry(value)
  }

  #out(value: unknown): V | undefined {
    if (value === undefined) return undefined
    if (this.#raw) return (value as RawEntry).value as V
    // Buffer.from copies small values into Node's pooled slab, far cheaper than slice()'s fresh
    // ArrayBuffer; the plain Uint8Array view keeps decoders from handing back Buffers.
    const copy = Buffer.from(value as Uint8Array)
    return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength) as V
  }

  // What a stored entry holds: the value itself in raw mode, the stored bytes in byte mode.
  #plain(stored: NonNullable<unknown>): unknown {
    return this.#raw ? (stored as RawEntry).value : stored
  }

  #open(): void {
    let scope: Scope | undefined = this.#scope
    do {
      if (scope.closed) throw new StoreClosedError('[cellar:memory] store is closed')
      scope = scope.parent
    } while (scope !== undefined)
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
