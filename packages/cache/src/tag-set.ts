import { createHash, randomInt } from 'node:crypto'
import { assertKey, type CacheGateway, isTracing } from '@cellar/core'

// A tag's first generation is random, not 0: if the store evicts a tag's counter, the counter
// comes back at a new random value, so entries written under the old one become misses
// instead of reappearing.
const FIRST_GENERATION_MAX = 2 ** 47

/**
 * The generation counters of a set of tags. Entries of a tagged cache live under a namespace
 * named by the tags' current generations, so `flush()` is one atomic increment per tag and
 * deletes nothing: old entries simply stop being reachable and age out by their TTL.
 */
export class TagSet {
  /** The tags, sorted and without duplicates (tag order does not matter). */
  readonly names: readonly string[]
  readonly #counters: CacheGateway
  readonly #keys: readonly string[]
  // The namespace of recent generation vectors (a flush makes a new one), and the last one used.
  readonly #hashes = new Map<string, string>()
  #last: { generations: readonly number[]; hash: string } | undefined
  // Counters are read without a promise when their store answers in-process.
  readonly #synchronous: boolean

  constructor(counters: CacheGateway, names: readonly string[]) {
    if (!Array.isArray(names) || names.length === 0) {
      throw new TypeError('[cellar:cache] tags() needs at least one tag name')
    }
    for (const name of names) assertKey(name)
    this.names = [...new Set(names)].sort()
    this.#counters = counters
    this.#keys = this.names.map((name) => `tag:${name}`)
    const store = counters.store
    this.#synchronous = store.capabilities.synchronous === true && store.getSync !== undefined
  }

  /**
   * The namespace name for the tags' current generations: one batched read of every counter
   * (plus one `add` per counter that does not exist yet).
   */
  namespace(): Promise<string> {
    try {
      const name = this.current()
      return typeof name === 'string' ? Promise.resolve(name) : name
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * `namespace()`, answered without a promise when the counters' store reads in-process and
   * every counter exists (the hot path of a tagged read on a memory store).
   */
  current(): string | Promise<string> {
    if (!this.#synchronous || isTracing()) return this.#read()
    const keys = this.#keys
    const generations = new Array<number>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      let value: unknown
      try {
        value = this.#counters.getValueSync(keys[i]!)
      } catch {
        return this.#read()
      }
      // A counter that does not exist yet is started (an `add`) on the async path.
      if (typeof value !== 'number') return this.#read()
      generations[i] = value
    }
    return this.#hash(generations)
  }

  async #read(): Promise<string> {
    const generations = await this.#counters.multiGetValues<number>(this.#keys)
    for (let i = 0; i < generations.length; i++) {
      if (typeof generations[i] !== 'number') generations[i] = await this.#start(this.#keys[i]!)
    }
    return this.#hash(generations as number[])
  }

  #hash(generations: readonly number[]): string {
    const last = this.#last
    if (last !== undefined && sameNumbers(last.generations, generations)) return last.hash
    const text = generations.join(',')
    let hashed = this.#hashes.get(text)
    if (hashed === undefined) {
      const named = this.names.map((name, i) => `${name}=${generations[i]}`).join('\n')
      hashed = createHash('sha256').update(named).digest('base64url').slice(0, 22)
      if (this.#hashes.size >= 32) this.#hashes.clear()
      this.#hashes.set(text, hashed)
    }
    this.#last = { generations, hash: hashed }
    return hashed
  }

  /** Moves every tag to its next generation: one atomic increment per tag, nothing deleted. */
  async flush(): Promise<void> {
    await Promise.all(this.#keys.map((key) => this.#counters.incr(key, 1, { ttl: null })))
  }

  async #start(key: string): Promise<number> {
    await this.#counters.addValue(key, randomInt(1, FIRST_GENERATION_MAX), null)
    // Whoever won the add (us or a concurrent caller) decides the generation.
    const value = await this.#counters.getValue<number>(key)
    if (typeof value !== 'number') {
      // Evicted again between the two calls, or not a counter: fall back to a one-off value
      // that matches nothing written before.
      return randomInt(1, FIRST_GENERATION_MAX)
    }
    return value
  }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
