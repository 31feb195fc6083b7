import {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  type Duration,
  InvalidArgumentError,
  Lock,
  type LockOptions,
  parseDuration,
  resolveTtl,
  type Store,
  type StoreCapabilities,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import { Client, type Response } from 'memjs'
import { Counters } from './counter.js'
import { toExpiry } from './expiry.js'
import { Generations } from './generations.js'
import { assertPrefix, type Head, KeySpace } from './keys.js'
import { MemcachedLockBackend } from './memcached-lock.js'
import type { MemcachedStoreOptions } from './types.js'
import { ONCE, Op, Status, storeExtras, unavailable, unexpected, Wire } from './wire.js'

interface Shared {
  readonly wire: Wire
  readonly counters: Counters
  readonly ownsClient: boolean
  readonly capabilities: StoreCapabilities
  readonly defaultTtl: Ttl
  readonly generationTtl: number
  closed: boolean
}

const DEFAULT_MAX_VALUE_SIZE = 1_000_000
const silent = { log: () => {} }

function view(value: Buffer): Uint8Array {
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}

function positiveSeconds(value: Duration, what: string): number {
  const ms = parseDuration(value, what)
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`[cellar:memcached] ${what} must be a positive duration`)
  }
  return ms / 1000
}

function createShared(options: MemcachedStoreOptions): Shared {
  const maxValueSize = options.maxValueSize ?? DEFAULT_MAX_VALUE_SIZE
  if (!Number.isSafeInteger(maxValueSize) || maxValueSize < 1) {
    throw new InvalidArgumentError('[cellar:memcached] maxValueSize must be a positive integer')
  }
  const defaultTtl = options.defaultTtl ?? null
  resolveTtl(defaultTtl) // refuse a bad default up front
  const generationTtl = parseDuration(options.generationTtl ?? 0, 'generationTtl')
  if (!(generationTtl >= 0)) {
    throw new InvalidArgumentError('[cellar:memcached] generationTtl must be 0 or positive')
  }
  let client = options.client
  const connection = ['servers', 'timeout', 'connectTimeout', 'retries', 'memjs'] as const
  if (client !== undefined) {
    const clash = connection.filter((name) => options[name] !== undefined)
    if (clash.length > 0) {
      throw new InvalidArgumentError(
        `[cellar:memcached] pass either client or ${clash.join('/')}, not both: a given client keeps its own settings`,
      )
    }
  } else {
    const retries = options.retries ?? 2
    if (!Number.isSafeInteger(retries) || retries < 1) {
      throw new InvalidArgumentError('[cellar:memcached] retries must be an integer >= 1')
    }
    const servers = options.servers ?? '127.0.0.1:11211'
    const list = typeof servers === 'string' ? servers : servers.join(',')
    if (list.trim() === '') {
      throw new InvalidArgumentError('[cellar:memcached] servers must name at least one server')
    }
    client = Client.create(list, {
      logger: silent,
      ...options.memjs,
      timeout: positiveSeconds(options.timeout ?? 500, 'timeout'),
      conntimeout: positiveSeconds(options.connectTimeout ?? 1000, 'connectTimeout'),
      retries,
    })
  }
  const wire = new Wire(client, watchdogDeadline(client))
  return {
    wire,
    counters: new Counters(wire),
    ownsClient: options.client === undefined,
    defaultTtl,
    generationTtl,
    closed: false,
    capabilities: Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: true,
      persistent: false,
      retainsValues: true,
      raw: false,
      maxKeyLength: Number.POSITIVE_INFINITY,
      maxValueSize,
      ttlPrecision: 1000,
    }),
  }
}

// The longest memjs itself can take to fail a request (connect, answer, every retry), plus room.
function watchdogDeadline(client: Client): number {
  const server = client.servers[0]?.options ?? {}
  const timeout = server.timeout ?? 0.5
  const connect = server.conntimeout ?? 2 * timeout
  const { retries = 2, retry_delay: delay = 0.2 } = client.options
  return Math.ceil((connect + timeout + delay) * 1000 * Math.max(1, retries)) + 1000
}

/**
 * A memcached store on memjs. Long or non-ASCII keys are hashed, TTLs are whole seconds
 * (rounded up), `clear()` starts a new generation of this store's keys, and `increment` is
 * atomic across processes, negative values included.
 */
export class MemcachedStore implements Store<Uint8Array> {
  readonly name = 'memcached'
  readonly capabilities: StoreCapabilities
  readonly #shared: Shared
  readonly #space: KeySpace
  readonly #gens: Generations
  readonly #locks: MemcachedLockBackend
  readonly #ownsShared: boolean
  #closed = false

  /** The second parameter is internal (namespaces share their parent's connection). */
  constructor(options: MemcachedStoreOptions = {}, parent?: { shared: Shared; space: KeySpace }) {
    if (parent === undefined) {
      const prefix = options.prefix ?? ''
      assertPrefix(prefix)
      this.#shared = createShared(options)
      this.#space = new KeySpace(prefix, [])
    } else {
      this.#shared = parent.shared
      this.#space = parent.space
    }
    this.#ownsShared = parent === undefined
    this.capabilities = this.#shared.capabilities
    this.#gens = new Generations(this.#shared.wire, this.#space, this.#shared.generationTtl)
    this.#locks = new MemcachedLockBackend(this.#shared.wire, this.#space, () => this.#open())
  }

  /** The prefix given to the root store (namespaces add their names below it). */
  get prefix(): string {
    return this.#space.prefix
  }

  /** The memjs client (given or created); for what the store does not wrap, like stats. */
  get client(): Client {
    return this.#shared.wire.client
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check(key)
    return this.#run(async (head) => {
      const response = await this.#wire.send(Op.GET, head.key(key), key)
      return this.#value(response, key)
    })
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#open()
    assertKeys(keys)
    if (keys.length === 0) return []
    return this.#run(async (head) => {
      const mcKeys = keys.map((key) => head.key(key))
      const hits = await this.#wire.getMulti(mcKeys)
      return mcKeys.map((mcKey) => {
        const hit = hits.get(mcKey)
        return hit === undefined ? undefined : view(hit.val)
      })
    })
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#shared.defaultTtl, key)
    await this.#run((head) => this.#write(head, key, value, ms))
  }

  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    if (!Array.isArray(entries)) {
      throw new InvalidArgumentError('[cellar:memcached] setMany takes an array of [key, value]')
    }
    // Check everything before the first write: a bad entry must leave the store untouched.
    for (const [key, value] of entries) {
      assertKey(key)
      assertBytes(value, key, this.capabilities.maxValueSize)
    }
    const ms = resolveTtl(ttl, this.#shared.defaultTtl)
    if (entries.length === 0) return
    await this.#run(async (head) => {
      await Promise.all(entries.map(([key, value]) => this.#write(head, key, value, ms)))
    })
  }

  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    this.#check(key)
    assertBytes(value, key, this.capabilities.maxValueSize)
    const ms = resolveTtl(ttl, this.#shared.defaultTtl, key)
    // An already-expired entry is never visible, so writing it would change nothing.
    if (ms !== null && ms <= 0) return false
    const { flags, exptime } = toExpiry(ms)
    return this.#run(async (head) => {
      const extras = storeExtras(flags, exptime)
      const mcKey = head.key(key)
      const response = await this.#wire.send(Op.ADD, mcKey, key, extras, value, undefined, ONCE)
      const { status } = response.header
      if (status === Status.OK) return true
      if (status === Status.EXISTS || status === Status.NOT_STORED) return false
      throw unexpected(response, key)
    })
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return this.#run((head) => this.#remove(head, key))
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    if (keys.length === 0) return 0
    return this.#run(async (head) => {
      const removed = await Promise.all([...new Set(keys)].map((key) => this.#remove(head, key)))
      return removed.filter(Boolean).length
    })
  }

  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    return this.#run((head) => this.#shared.counters.increment(head.key(key), key, delta))
  }

  /**
   * Starts a new generation of this store's keys (and its namespaces'): old entries become
   * unreachable at once, in every process, and age out of memcached. Locks are not cleared.
   */
  async clear(): Promise<void> {
    this.#open()
    await this.#gens.bump()
  }

  /**
   * Empties every server this store's client talks to (`flush_all`), every application's keys
   * included. Only for servers this application owns alone; `clear()` is the scoped way.
   */
  async flushAll(): Promise<void> {
    this.#open()
    try {
      await this.#wire.client.flush()
    } catch (error) {
      throw unavailable('flush_all', undefined, error)
    }
  }

  /** A store sharing this one's connection whose keys live under the namespace `name`. */
  namespace(name: string): MemcachedStore {
    this.#open()
    assertKey(name)
    return new MemcachedStore({}, { shared: this.#shared, space: this.#space.child(name) })
  }

  /** A lock held in memcached; `clear()` does not release it. */
  lock(name: string, options?: LockOptions): Lock {
    this.#check(name)
    return new Lock(this.#locks, name, options)
  }

  /** Closes this store; the store that created the client (if it did) also closes it. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#ownsShared) return
    this.#shared.closed = true
    this.#shared.wire.close()
    if (this.#shared.ownsClient) this.#shared.wire.client.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  get #wire(): Wire {
    return this.#shared.wire
  }

  /**
   * Runs `op` with the last known generations while reading the current ones in parallel; if a
   * `clear()` (here or in another process) changed them, `op` runs again with the new ones. The
   * first run then only touched keys no one can read any more.
   */
  async #run<T>(op: (head: Head) => Promise<T>): Promise<T> {
    const gens = this.#gens
    const cached = gens.current
    if (cached === undefined) return op(await gens.fresh())
    if (gens.trusted) return op(cached)
    const fresh = gens.fresh()
    let value: T | undefined
    let failure: { error: unknown } | undefined
    try {
      value = await op(cached)
    } catch (error) {
      failure = { error }
    }
    const latest = await fresh
    if (latest !== cached) return op(latest)
    if (failure !== undefined) throw failure.error
    return value as T
  }

  async #write(head: Head, key: string, value: Uint8Array, ms: number | null): Promise<void> {
    if (ms !== null && ms <= 0) {
      await this.#remove(head, key)
      return
    }
    const { flags, exptime } = toExpiry(ms)
    const extras = storeExtras(flags, exptime)
    const response = await this.#wire.send(Op.SET, head.key(key), key, extras, value)
    if (response.header.status !== Status.OK) throw unexpected(response, key)
  }

  async #remove(head: Head, key: string): Promise<boolean> {
    const response = await this.#wire.send(Op.DELETE, head.key(key), key)
    if (response.header.status === Status.OK) return true
    if (response.header.status === Status.NOT_FOUND) return false
    throw unexpected(response, key)
  }

  #value(response: Response, key: string): Uint8Array | undefined {
    if (response.header.status === Status.OK) return view(response.val)
    if (response.header.status === Status.NOT_FOUND) return undefined
    throw unexpected(response, key)
  }

  #open(): void {
    if (this.#closed || this.#shared.closed) {
      throw new StoreClosedError('[cellar:memcached] store is closed')
    }
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
