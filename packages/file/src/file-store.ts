import { resolve } from 'node:path'
import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  CellarError,
  type Duration,
  encodeCounter,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  parseDuration,
  requireCounter,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import { backendError } from './errors.js'
import {
  discard,
  keyPath,
  readIfExists,
  removeIfExists,
  take,
  withMutex,
  writeAtomic,
} from './file-io.js'
import { FileLockBackend } from './file-lock.js'
import { type Decoded, decodeFile, encodeFile, isExpired, Kind, MAX_PAYLOAD } from './format.js'
import { clearPrefix, pruneDirectory } from './sweep.js'

/** Options of `FileStore`; only `directory` is required. */
export interface FileStoreOptions {
  /** The directory that holds the files (created on first write). Give each cache its own. */
  directory: string
  /**
   * Every key of this store is stored (and hashed) under this prefix.
   * @default ''
   */
  prefix?: string
  /**
   * TTL used when a write omits one; `null` keeps entries until deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * How often expired and unreadable files are swept (reads drop them lazily anyway);
   * `false` disables. Each sweep reads the header of every file in the directory.
   * @default 300_000 (5 minutes)
   */
  pruneInterval?: Duration | false
  /**
   * Largest value accepted; larger writes throw `E_VALUE_TOO_LARGE`.
   * @default 16_777_216 (16 MiB)
   */
  maxValueSize?: number
  /**
   * Spread files over 256 subdirectories by the first byte of their hash, which keeps
   * directories small when a cache holds hundreds of thousands of entries.
   * @default true
   */
  fanOut?: boolean
  /**
   * A cross-process mutex (for `add`, `increment`, locks) whose holder stopped refreshing it
   * this long ago is taken over; at least 2s (proper-lockfile's floor).
   * @default 10_000
   */
  staleMutexAfter?: Duration
  /**
   * The wall clock in milliseconds since the epoch; every process on the directory must agree.
   * @default Date.now
   */
  now?: () => number
}

interface Shared {
  readonly directory: string
  readonly fanOut: boolean
  readonly staleMs: number
  readonly now: () => number
  readonly locks: FileLockBackend
  timer: NodeJS.Timeout | undefined
  pruning: Promise<number> | undefined
  closed: boolean
}

const DEFAULT_MAX_VALUE = 16 * 1024 * 1024

/**
 * A store with one file per key in a directory on local disk: hashed file names, the expiry
 * and key in a checksummed header, atomic write-then-rename. Unreadable files read as misses
 * and are removed. `add`, `increment` and locks take a cross-process mutex, so they stay
 * atomic for every process sharing the directory.
 */
export class FileStore implements Store<Uint8Array> {
  readonly name = 'file'
  readonly capabilities: StoreCapabilities
  readonly #shared: Shared
  readonly #options: FileStoreOptions
  readonly #prefix: string
  readonly #defaultTtl: Ttl
  #closed = false
  #ownsShared = false

  constructor(options: FileStoreOptions, shared?: Shared) {
    if (typeof options?.directory !== 'string' || options.directory.length === 0) {
      throw new InvalidArgumentError('[cellar:file] directory must be a non-empty path')
    }
    this.#options = options
    this.#prefix = options.prefix ?? ''
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
    })
    this.#shared = shared ?? this.#createShared()
  }

  /** The prefix every key of this store is stored (and hashed) under. */
  get prefix(): string {
    return this.#prefix
  }

  /** The absolute path of the directory this store writes to. */
  get directory(): string {
    return this.#shared.directory
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
    const { path, full } = this.#locate(key)
    return this.#fs('add', key, () =>
      withMutex(path, this.#shared.staleMs, key, async () => {
        if ((await this.#readAt(path, full)) !== undefined) return false
        if (ms !== null && ms <= 0) return false
        await writeAtomic(path, encodeFile(Kind.entry, full, value, this.#expiresAt(ms)))
        return true
      }),
    )
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#read(key)) !== undefined
  }

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

  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    const { path, full } = this.#locate(key)
    return this.#fs('increment', key, () =>
      withMutex(path, this.#shared.staleMs, key, async () => {
        const current = await this.#readAt(path, full)
        const next = (current === undefined ? 0 : requireCounter(current.value, key)) + delta
        if (!Number.isSafeInteger(next)) {
          throw new InvalidArgumentError(`[cellar:file] counter "${key}" would overflow`, { key })
        }
        // An existing counter keeps its expiry; a new one never expires.
        const expiresAt = current?.expiresAt ?? 0
        await writeAtomic(path, encodeFile(Kind.entry, full, encodeCounter(next), expiresAt))
        return next
      }),
    )
  }

  /** Removes the entries whose stored key starts with this store's prefix, and nothing else. */
  async clear(): Promise<void> {
    this.#open()
    await this.#fs('clear', undefined, () =>
      clearPrefix(this.#shared.directory, Buffer.from(this.#prefix)),
    )
  }

  /**
   * Sweeps the whole directory now (every prefix): removes expired and unreadable entries and
   * temporaries left by dead writers; resolves how many files were removed.
   */
  async prune(): Promise<number> {
    this.#open()
    return this.#prune()
  }

  /** A store on the same directory and timer whose keys live under `<prefix><name>:`. */
  namespace(name: string): FileStore {
    assertKey(name)
    return new FileStore({ ...this.#options, prefix: `${this.#prefix}${name}:` }, this.#shared)
  }

  /** A lock shared by every process on this directory; names live under this store's prefix. */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#shared.locks, this.#prefix + name, options)
  }

  /** Closes this store; the store that was constructed also stops the periodic prune. */
  async close(): Promise<void> {
    this.#closed = true
    if (!this.#ownsShared || this.#shared.closed) return
    this.#shared.closed = true
    clearInterval(this.#shared.timer)
    this.#shared.timer = undefined
    await this.#shared.pruning?.catch(() => {})
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #createShared(): Shared {
    this.#ownsShared = true
    const staleMs = parseDuration(this.#options.staleMutexAfter ?? 10_000, 'staleMutexAfter')
    if (!(staleMs >= 2_000)) {
      throw new InvalidArgumentError(
        `[cellar:file] staleMutexAfter must be at least 2000ms, got ${staleMs}`,
      )
    }
    const now = this.#options.now ?? Date.now
    const directory = resolve(this.#options.directory)
    const fanOut = this.#options.fanOut ?? true
    const shared: Shared = {
      directory,
      fanOut,
      staleMs,
      now,
      locks: new FileLockBackend({
        directory,
        fanOut,
        staleMs,
        now,
        assertOpen: () => {
          if (shared.closed) throw new StoreClosedError('[cellar:file] store is closed')
        },
      }),
      timer: undefined,
      pruning: undefined,
      closed: false,
    }
    const every = this.#options.pruneInterval ?? 300_000
    if (every !== false) {
      const ms = parseDuration(every, 'pruneInterval')
      if (!(ms > 0)) throw new InvalidArgumentError('[cellar:file] pruneInterval must be positive')
      // A failed background sweep is retried at the next tick; reads stay correct meanwhile.
      shared.timer = setInterval(() => void this.#prune().catch(() => {}), ms)
      shared.timer.unref()
    }
    return shared
  }

  #prune(): Promise<number> {
    const shared = this.#shared
    if (shared.pruning !== undefined) return shared.pruning
    const run = this.#fs('prune', undefined, () => pruneDirectory(shared.directory, shared.now))
    shared.pruning = run.finally(() => {
      shared.pruning = undefined
    })
    return shared.pruning
  }

  #locate(key: string): { path: string; full: Buffer } {
    const full = Buffer.from(this.#prefix + key)
    return { path: keyPath(this.#shared.directory, this.#shared.fanOut, full), full }
  }

  async #read(key: string): Promise<Decoded | undefined> {
    const { path, full } = this.#locate(key)
    return this.#fs('get', key, () => this.#readAt(path, full))
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
    if (decoded === undefined || isExpired(decoded.expiresAt, this.#shared.now())) return undefined
    return decoded
  }

  async #write(key: string, value: Uint8Array, ms: number | null): Promise<void> {
    const { path, full } = this.#locate(key)
    await this.#fs('set', key, async () => {
      if (ms !== null && ms <= 0) await removeIfExists(path)
      else await writeAtomic(path, encodeFile(Kind.entry, full, value, this.#expiresAt(ms)))
    })
  }

  #expiresAt(ms: number | null): number {
    return ms === null ? 0 : this.#shared.now() + ms
  }

  async #fs<T>(action: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof CellarError) throw error
      throw backendError(action, error, key)
    }
  }

  #open(): void {
    if (this.#closed || this.#shared.closed) {
      throw new StoreClosedError('[cellar:file] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
