import { resolveTtl, type Ttl } from './duration.js'
import { StoreClosedError } from './errors.js'
import { assertBytes, assertDelta, assertKey, assertKeys } from './keys.js'
import type { Store, StoreCapabilities } from './store.js'

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
})

/**
 * A store that caches nothing: every read misses, writes are accepted and dropped. Input is
 * still validated, so code that is wrong against a real store is wrong here too.
 */
export class NullStore implements Store<Uint8Array> {
  readonly name = 'null'
  readonly capabilities = capabilities
  #closed = false

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
  async increment(key: string, delta = 1): Promise<number> {
    this.#check(key)
    assertDelta(delta, key)
    return delta
  }

  async clear(): Promise<void> {
    this.#open()
  }

  namespace(_name: string): NullStore {
    return new NullStore()
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError('[cellar:null] store is closed')
  }

  #check(key: string): void {
    this.#open()
    assertKey(key)
  }
}
