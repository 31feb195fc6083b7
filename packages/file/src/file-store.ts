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
  type LockBackend,
  type LockOptions,
  namespacePrefix,
  type RateLimitBackend,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  scopedKey,
  type Ttl,
  unscopedKey,
} from '@cellar/core'
import { fileError } from './errors.js'
import {
  discard,
  keyPath,
  readIfExists,
  removeIfExists,
  take,
  withMutex,
  writeAtomic,
} from './file-io.js'
import { FileRateLimitBackend } from './file-rate-limit.js'
import { type Decoded, decodeFile, encodeFile, isExpired, Kind, MAX_PAYLOAD } from './format.js'
import { closeRoot, type FileStoreOptions, openRoot, pruneRoot, type Root } from './root.js'
import { clearPrefix, listKeys } from './sweep.js'

const DEFAULT_MAX_VALUE = 16 * 1024 * 1024

/**
 * A store with one file per key in a directory on local disk: hashed file names, the expiry
 * and key in a checksummed header, atomic write-then-rename. Unreadable files read as misses
 * and are removed. `add`, `increment`, `touch` and locks take a cross-process mutex, so they
 * stay atomic for every process sharing the directory.
 */
export class FileStore implements Store<Uint8Array> {
  readonly name = 'file'
  readonly capabilities: StoreCapabilities
  // namespace() hands its root over through this class-private slot; the constructor empties
  // it at once, so the public signature takes options only.
  static #handoff: Root | undefined
  readonly #root: Root
  readonly #ownsRoot: boolean
  readonly #options: FileStoreOptions
  readonly #prefix: string
  readonly #defaultTtl: Ttl
  readonly #locks: LockBackend
  #closed = false

  constructor(options: FileStoreOptions) {
    const handed = FileStore.#handoff
    FileStore.#handoff = undefined
    if (typeof options?.directory !== 'string' || options.directory.length === 0) {
      throw new InvalidArgumentError('[cellar:file] directory must be a non-empty path')
    }
    this.#options = options
    this.#prefix = options.prefix ?? ''
    // A lone surrogate would become U+FFFD on disk and make two prefixes share their files.
    if (typeof this.#prefix !== 'string' || !this.#prefix.isWellFormed()) {
      throw new InvalidArgumentError('[cellar:file] prefix must be a well-formed string')
    }
    this.#defaultTtl = options.defaultTtl ?? null
    resolveTtl(this.#defaultTtl) // refuse a bad default up front
    const maxValueSize = options.maxValueSize ?? DEFAULT_MAX_VALUE
    if (!Number.isSafeInteger(maxValueSize) || maxValueSize < 1 || maxValueSize > MAX_PAYLOAD) {
      throw new InvalidArgumentError(
        `[cellar:file] maxValueSize must be an integer from 1 to ${MAX_PAYLOAD}, got ${maxValueSize}`,
      )
    }
    this.capabilities = Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: true,
      persistent: true,
      retainsValues: true,
      raw: false,
      maxKeyLength: Number.POSITIVE_INFINITY,
      maxValueSize,
      ttlPrecision: 1,
      readsTtl: true,
      listsKeys: true,
      evicts: false,
      rateLimits: true,
    })
    this.#ownsRoot = handed === undefined
    this.#root = handed ?? openRoot(options)
    this.#locks = this.#scopedLocks()
  }

  /** The prefix every key of this store is stored (and hashed) under. */
  get prefix(): string {
    return this.#prefix
  }

  /** The absolute path of the directory this store writes to. */
  get directory(): string {
    return this.#root.directory
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    return (await this.#read(key))?.value
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    assertKeys(keys)
    return Promise.all(keys.map(async (key) => (await this.#read(key))?.value))
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    await this.#write(key, value, resolveTtl(ttl, this.#defaultTtl, key))
  }

  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    // Check everything before the first write: bad input must leave the directory untouched.
    if (!Array.isArray(entries)) {
      throw new InvalidArgumentError('[cellar:file] setMany entries must be an array')
    }
    const ms = resolveTtl(ttl, this.#defaultTtl)
    for (const [key, value] of entries) {
      assertKey(key)
      assertBytes(value, key, this.capabilities.maxValueSize)
    }
    // Writes run in parallel, so a repeated key would race; the last entry wins, as in MSET.
    const last = new Map<string, Uint8Array>(entries)
    await Promise.all([...last].map(([key, value]) => this.#write(key, value, ms)))
  }

  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    return this.#locked('add', key, async (path, full, current) => {
      if (current !== undefined || (ms !== null && ms <= 0)) return false
      await writeAtomic(path, encodeFile(Kind.entry, full, value, this.#expiresAt(ms)))
      return true
    })
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#read(key)) !== undefined
  }

  /** Resolves true only if a live entry was removed; an expired file is removed and says false. */
  async delete(key: string): Promise<boolean> {
    this.#check(key)
    const { path, full } = this.#locate(key)
    const taken = await this.#fs('delete', key, () => take(path))
    return taken !== undefined && this.#live(taken, full) !== undefined
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    // One key twice must count once: remove distinct keys only.
    const removed = await Promise.all([...new Set(keys)].map((key) => this.delete(key)))
    return removed.filter(Boolean).length
  }

  /**
   * Adds `delta` under the key's cross-process mutex. A missing key starts at 0 and takes
   * `options.ttl` (else the default TTL) in the same step; an existing counter keeps its expiry.
   */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const ms = resolveTtl(options?.ttl, this.#defaultTtl, key)
    return this.#locked('increment', key, async (path, full, current) => {
      if (current === undefined && ms !== null && ms <= 0) return delta
      const next =
        current === undefined ? delta : addToCounter(requireCounter(current.value, key), delta, key)
      const expiresAt = current === undefined ? this.#expiresAt(ms) : current.expiresAt
      await writeAtomic(path, encodeFile(Kind.entry, full, encodeCounter(next), expiresAt))
      return next
    })
  }

  /**
   * Gives a live entry a new TTL under its mutex (`<= 0` removes it); resolves whether there
   * was a live entry. An expired entry is never revived.
   */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    const ms = resolveTtl(ttl, this.#defaultTtl, key)
    return this.#locked('touch', key, async (path, full, current) => {
      if (current === undefined) return false
      if (ms !== null && ms <= 0) await removeIfExists(path)
      else await writeAtomic(path, encodeFile(Kind.entry, full, current.value, this.#expiresAt(ms)))
      return true
    })
  }

  /** Remaining milliseconds from the header, rounded up; `null` without expiry. */
  async ttl(key: string): Promise<number | null | undefined> {
    this.#check(key)
    const entry = await this.#read(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt === 0) return null
    return Math.max(1, Math.ceil(entry.expiresAt - this.#root.now()))
  }

  /**
   * This namespace's live keys, by a walk of the directory that reads each entry's header (and,
   * for this namespace's keys, the whole file). Costs a read per file: a tool, not a hot path.
   */
  async *keys(): AsyncGenerator<string> {
    this.#open()
    const { directory, fanOut, now } = this.#root
    const prefix = this.#prefix
    const listing = listKeys({ directory, fanOut, now, unscope: (s) => unscopedKey(prefix, s) })
    try {
      for (;;) {
        const step = await this.#fs('keys', undefined, () => listing.next())
        if (step.done === true) return
        yield step.value
      }
    } finally {
      await listing.return(undefined)
    }
  }

  /**
   * Removes this store's entries (and those of namespaces made from it), never the parent's
   * plain keys, a sibling namespace's entries or a lock.
   */
  async clear(): Promise<void> {
    this.#open()
    await this.#fs('clear', undefined, () =>
      clearPrefix(this.#root.directory, Buffer.from(this.#prefix)),
    )
  }

  /**
   * Sweeps the whole directory now (every prefix): removes expired and unreadable entries and
   * temporaries left by dead writers; resolves how many files were removed.
   */
  async prune(): Promise<number> {
    this.#open()
    return pruneRoot(this.#root)
  }

  /** A store on the same directory and timer whose keys no key of this store can reach. */
  namespace(name: string): FileStore {
    this.#open()
    const prefix = namespacePrefix(this.#prefix, name)
    FileStore.#handoff = this.#root
    try {
      return new FileStore({ ...this.#options, prefix })
    } finally {
      FileStore.#handoff = undefined
    }
  }

  /**
   * A lock shared by every process on this directory, scoped to this namespace and apart from
   * cache keys. Once this store (or its root) is closed, the handle rejects `E_STORE_CLOSED`.
   */
  lock(name: string, options?: LockOptions): Lock {
    return new Lock(this.#locks, name, options)
  }

  /**
   * The native limiter step: each decision reads and rewrites the key's state file under its
   * cross-process mutex, on this store's clock, so every process on the directory agrees.
   */
  rateLimiter(): RateLimitBackend {
    return new FileRateLimitBackend(this.#root, this.#prefix, () => this.#open())
  }

  /**
   * Closes this store. The store that was constructed also stops the prune, and every namespace
   * and lock handle made from it refuses calls; closing a namespace releases nothing shared.
   */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsRoot) await closeRoot(this.#root)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** The root's lock backend behind this store's open check and prefix. */
  #scopedLocks(): LockBackend {
    const locks = this.#root.locks
    const scope = (name: string) => {
      this.#open()
      return scopedKey(this.#prefix, name)
    }
    return {
      acquire: async (name, owner, ttlMs) => locks.acquire(scope(name), owner, ttlMs),
      release: async (name, owner) => locks.release(scope(name), owner),
      forceRelease: async (name) => locks.forceRelease(scope(name)),
      extend: async (name, owner, ttlMs) => locks.extend(scope(name), owner, ttlMs),
      inspect: async (name) => locks.inspect(scope(name)),
    }
  }

  #locate(key: string): { path: string; full: Buffer } {
    const full = Buffer.from(scopedKey(this.#prefix, key))
    return { path: keyPath(this.#root.directory, this.#root.fanOut, full), full }
  }

  async #read(key: string): Promise<Decoded | undefined> {
    const { path, full } = this.#locate(key)
    return this.#fs('get', key, () => this.#readAt(path, full))
  }

  /** Runs `fn` with the key's live entry (or `undefined`) under its cross-process mutex. */
  #locked<T>(
    action: string,
    key: string,
    fn: (path: string, full: Buffer, current: Decoded | undefined) => Promise<T>,
  ): Promise<T> {
    const { path, full } = this.#locate(key)
    return this.#fs(action, key, () =>
      withMutex(path, this.#root.staleMs, key, async () =>
        fn(path, full, await this.#readAt(path, full)),
      ),
    )
  }

  /** The live entry at `path`; an expired or unreadable file is discarded and reads as a miss. */
  async #readAt(path: string, full: Buffer): Promise<Decoded | undefined> {
    const bytes = await readIfExists(path)
    if (bytes === undefined) return undefined
    const live = this.#live(bytes, full)
    if (live === undefined) await discard(path, (file) => this.#live(file, full) === undefined)
    return live
  }

  #live(bytes: Buffer, full: Buffer): Decoded | undefined {
    const decoded = decodeFile(bytes, Kind.entry, full)
    if (decoded === undefined || isExpired(decoded.expiresAt, this.#root.now())) return undefined
    return decoded
  }

  async #write(key: string, value: Uint8Array, ms: number | null): Promise<void> {
    const { path, full } = this.#locate(key)
    await this.#fs('set', key, async () => {
      if (ms !== null && ms <= 0) await removeIfExists(path)
      else await writeAtomic(path, encodeFile(Kind.entry, full, value, this.#expiresAt(ms)))
    })
  }

  /** The header's expiry for a TTL: whole milliseconds, rounded up; 0 for none. */
  #expiresAt(ms: number | null): number {
    return ms === null ? 0 : this.#root.now() + Math.ceil(ms)
  }

  async #fs<T>(action: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw fileError(action, error, key)
    }
  }

  #open(): void {
    if (this.#closed || this.#root.closed) {
      throw new StoreClosedError('[cellar:file] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
