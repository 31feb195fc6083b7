import { resolveTtl, type Ttl } from './duration.js'
import { StoreClosedError } from './errors.js'
import { assertBytes, assertDelta, assertKey, assertKeys, namespacePrefix } from './keys.js'
import type { IncrementOptions, Store, StoreCapabilities } from './store.js'

const capabilities: StoreCapabilities = Object.freeze({
  atomicCounters: false,
  atomicAdd: false,
  locks: false,
  sharedAcrossProcesses: false,
  persistent: false,
  retainsValues: false,
  raw: false,
  maxKeyLength: Number.POSITIVE_INFINITY,
  maxValueSize: Number.POSITIVE_INFINITY,
  ttlPrecision: 1,
  readsTtl: true,
  listsKeys: true,
  evicts: false,
})

interface Root {
  closed: boolean
}

/**
 * A store that caches nothing: every read misses, writes are accepted and dropped. Input is
 * still validated, so code that is wrong against a real store is wrong here too.
 */
export class NullStore implements Store<Uint8Array> {
  readonly name = 'null'
  readonly capabilities = capabilities
  static #handoff: Root | undefined
  readonly #root: Root
  readonly #ownsRoot: boolean
  #closed = false

  constructor() {
    // namespace() hands its root over through this class-private slot (read at once, here).
    const handed = NullStore.#handoff
    NullStore.#handoff = undefined
    this.#ownsRoot = handed === undefined
    this.#root = handed ?? { closed: false }
  }

  async get(key: string): Promise<undefined> {
    this.#check(key)
    return undefined
  }

  async getMany(keys: readonly string[]): Promise<undefined[]> {
    this.#open()
    assertKeys(keys)
    return keys.map(() => undefined)
  }

  async set(key: string, value: Uint8Array, ttl?: Ttl): Promise<void> {
    this.#check(key)
    assertBytes(value, key)
    resolveTtl(ttl, null, key)
  }

  async setMany(entries: ReadonlyArray<readonly [string, Uint8Array]>, ttl?: Ttl): Promise<void> {
    this.#open()
    for (const [key, value] of entries) {
      assertKey(key)
      assertBytes(value, key)
    }
    resolveTtl(ttl)
  }

  /** Resolves false: nothing is ever written. */
  async add(key: string, value: Uint8Array, ttl?: Ttl): Promise<boolean> {
    await this.set(key, value, ttl)
    return false
  }

  async has(key: string): Promise<boolean> {
    this.#check(key)
    return false
  }

  async delete(key: string): Promise<boolean> {
    this.#check(key)
    return false
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open()
    assertKeys(keys)
    return 0
  }

  /** Resolves `delta`, as for a missing key; nothing is kept. */
  async increment(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    resolveTtl(options?.ttl, null, key)
    return delta
  }

  /** Resolves false: there is never a live entry to touch. */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    this.#check(key)
    resolveTtl(ttl, null, key)
    return false
  }

  /** Resolves `undefined`: every key is missing. */
  async ttl(key: string): Promise<undefined> {
    this.#check(key)
    return undefined
  }

  /** Lists nothing. */
  async *keys(): AsyncIterable<string> {
    this.#open()
    yield* []
  }

  async clear(): Promise<void> {
    this.#open()
  }

  /** A namespace that shares this store's open/closed state. */
  namespace(name: string): NullStore {
    this.#open()
    namespacePrefix('', name)
    NullStore.#handoff = this.#root
    return new NullStore()
  }

  /** Closes this store; closing the root store closes its namespaces too. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#ownsRoot) this.#root.closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #open(): void {
    if (this.#closed || this.#root.closed)
      throw new StoreClosedError('[cellar:null] store is closed')
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
