import { createHash, randomInt } from 'node:crypto'
import { assertKey, type CacheGateway } from '@cellar/core'

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
  // The namespace of recent generation vectors (a flush makes a new one).
  readonly #hashes = new Map<string, string>()

  constructor(counters: CacheGateway, names: readonly string[]) {
    if (!Array.isArray(names) || names.length === 0) {
      throw new TypeError('[cellar:cache] tags() needs at least one tag name')
    }
    for (const name of names) assertKey(name)
    this.names = [...new Set(names)].sort()
    this.#counters = counters
    this.#keys = this.names.map((name) => `tag:${name}`)
  }

  /**
   * The namespace name for the tags' current generations: one batched read of every counter
   * (plus one `add` per counter that does not exist yet).
   */
  async namespace(): Promise<string> {
    const generations = await this.#counters.multiGetValues<number>(this.#keys)
    for (let i = 0; i < generations.length; i++) {
      if (typeof generations[i] !== 'number') generations[i] = await this.#start(this.#keys[i]!)
    }
    const text = generations.join(',')
    let hashed = this.#hashes.get(text)
    if (hashed === undefined) {
      const named = this.names.map((name, i) => `${name}=${generations[i]}`).join('\n')
      hashed = createHash('sha256').update(named).digest('base64url').slice(0, 22)
      if (this.#hashes.size >= 32) this.#hashes.clear()
      this.#hashes.set(text, hashed)
    }
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
