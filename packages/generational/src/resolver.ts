import { randomInt } from 'node:crypto'
import {
  type CacheGateway,
  CellarError,
  InvalidArgumentError,
  UnsupportedError,
} from '@cellar/core'
import { generationalError } from './errors.js'
import { rememberedHash } from './hash.js'

/** What `CachedRepository` needs from a resolver: fingerprints of tag sets, and bumps. */
export interface DependencyResolver {
  /** A short hash of the tags' current generations, in the order given; no tags → `'0'`. */
  fingerprint(tags: readonly string[]): Promise<string>
  /** One fingerprint per group, equal to `fingerprint(group)`, reading each distinct tag once. */
  fingerprintMany(groups: ReadonlyArray<readonly string[]>): Promise<string[]>
  /** Moves every distinct tag to a new generation; resolves once every store write is done. */
  bump(tags: readonly string[]): Promise<void>
}

/** Options of `new GenerationalResolver(counters, options)`. */
export interface GenerationalResolverOptions {
  /**
   * Accept a counter store that declares `capabilities.evicts` (a bounded memory store,
   * memcached, an evicting Redis). Counters may then vanish: the resolver bumps its epoch
   * whenever a bump creates a counter, so an evicted counter never brings old entries back,
   * at the price of every fingerprint changing on the first bump of each new tag.
   * @default false
   */
  allowEvictingStore?: boolean
  /**
   * Most counters read by one `getMany`; longer tag lists are read in several, concurrently.
   * @default 500
   */
  batchSize?: number
}

/** The fingerprint of an empty tag list. */
export const NO_TAGS_FINGERPRINT = '0'
const EPOCH_KEY = 'epoch'
const EPOCH_START_MAX = 2 ** 47
const EPOCH_STEP_MAX = 2 ** 20

/** The store key of a tag's counter. */
export function counterKey(tag: string): string {
  return `tag:${tag}`
}

/**
 * Generation counters on a counter gateway (a store with atomic counters, often a second
 * gateway on the data store). `fingerprint` reads every counter in one `getMany` — a missing
 * counter counts as 0 — together with an epoch key created at a random value: if the counter
 * store is flushed, restarted or loses the epoch, every fingerprint changes instead of
 * reproducing one from before the reset. `bump` is one atomic increment per distinct tag.
 */
export class GenerationalResolver implements DependencyResolver {
  readonly #counters: CacheGateway
  readonly #allowEvicting: boolean
  #evicts: boolean
  // The backend's own eviction setting has been read (or can't be); until then every call reads it.
  #checked: boolean
  #checking: Promise<void> | undefined
  readonly #batchSize: number

  constructor(counters: CacheGateway, options: GenerationalResolverOptions = {}) {
    const capabilities = counters.store.capabilities
    if (!capabilities.atomicCounters) {
      throw new UnsupportedError(
        `[cellar:generational] store "${counters.store.name}" has no atomic counters; use VersionTokenResolver`,
      )
    }
    if (capabilities.evicts && options.allowEvictingStore !== true) {
      throw generationalError(
        'E_EVICTING_COUNTER_STORE',
        `store "${counters.store.name}" may evict entries, and an evicted generation counter would bring old entries back; use a store that cannot evict (Redis with maxmemory-policy noeviction, SQL) or pass allowEvictingStore: true`,
      )
    }
    const batchSize = options.batchSize ?? 500
    if (!Number.isSafeInteger(batchSize) || batchSize < 2) {
      throw new InvalidArgumentError(
        '[cellar:generational] batchSize must be an integer of at least 2',
      )
    }
    this.#counters = counters
    this.#allowEvicting = options.allowEvictingStore === true
    this.#evicts = capabilities.evicts
    this.#checked = capabilities.evicts || counters.store.evictionPolicy === undefined
    this.#batchSize = batchSize
  }

  /** The gateway the counters live on. */
  get counters(): CacheGateway {
    return this.#counters
  }

  async fingerprint(tags: readonly string[]): Promise<string> {
    if (tags.length === 0) return NO_TAGS_FINGERPRINT
    if (!this.#checked) await this.#checkEviction()
    const [epoch, values] = await this.#read(tags)
    return compose(epoch, tags, values)
  }

  async fingerprintMany(groups: ReadonlyArray<readonly string[]>): Promise<string[]> {
    const at = distinctTags(groups)
    if (at.size === 0) return groups.map(() => NO_TAGS_FINGERPRINT)
    if (!this.#checked) await this.#checkEviction()
    const [epoch, values] = await this.#read([...at.keys()])
    return composeGroups(epoch, groups, at, values)
  }

  async bump(tags: readonly string[]): Promise<void> {
    if (!this.#checked) await this.#checkEviction()
    const distinct = [...new Set(tags)]
    const values = await Promise.all(
      distinct.map((tag) => this.#counters.incr(counterKey(tag), 1, { ttl: null })),
    )
    // Only an increment that creates its counter resolves 1. On a store that may evict, that
    // is also what follows an eviction, so the epoch moves and the old zero cannot be reused.
    if (this.#evicts && values.includes(1)) {
      await this.#counters.addValue(EPOCH_KEY, randomInt(1, EPOCH_START_MAX), null)
      await this.#counters.incr(EPOCH_KEY, randomInt(1, EPOCH_STEP_MAX), { ttl: null })
    }
  }

  // A server setting (Redis's maxmemory-policy) can make a store evict that was declared
  // otherwise: read it once, shared by concurrent callers, before the first counter is used.
  #checkEviction(): Promise<void> {
    this.#checking ??= this.#readEviction().finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  async #readEviction(): Promise<void> {
    const store = this.#counters.store
    let evicts: boolean
    try {
      evicts = (await store.evictionPolicy!()).evicts
    } catch (error) {
      // Unreachable: the caller's call fails and the next one asks again. A server that won't
      // say (CONFIG disabled, as on some managed Redis) leaves the declaration in charge.
      if (error instanceof CellarError && error.code === 'E_BACKEND_UNAVAILABLE') throw error
      this.#checked = true
      return
    }
    if (evicts && !this.#allowEvicting) {
      // Not remembered: every call refuses until the server's setting changes.
      throw generationalError(
        'E_EVICTING_COUNTER_STORE',
        `store "${store.name}" was declared non-evicting, but its server may evict keys (a memory limit with an evicting maxmemory-policy), and an evicted generation counter would bring old entries back; set maxmemory-policy noeviction, or declare evicts: true and pass allowEvictingStore: true`,
      )
    }
    if (evicts) this.#evicts = true
    this.#checked = true
  }

  /** The current epoch and the counters of `tags` (0 when missing), in one read per batch. */
  async #read(tags: readonly string[]): Promise<[number, number[]]> {
    // The epoch is read first in the first batch: a reader that sees a bumped epoch also sees
    // the counter created before it (stores read one getMany atomically or in key order).
    const keys = [EPOCH_KEY, ...tags.map(counterKey)]
    let read: unknown[]
    if (keys.length <= this.#batchSize) {
      read = await this.#counters.multiGetValues(keys)
    } else {
      const batches: string[][] = []
      for (let i = 0; i < keys.length; i += this.#batchSize) {
        batches.push(keys.slice(i, i + this.#batchSize))
      }
      read = (
        await Promise.all(batches.map((batch) => this.#counters.multiGetValues(batch)))
      ).flat()
    }
    const epoch = typeof read[0] === 'number' ? read[0] : await this.#newEpoch()
    const values = new Array<number>(tags.length)
    for (let i = 0; i < tags.length; i++) {
      const value = read[i + 1]
      values[i] = typeof value === 'number' ? value : 0
    }
    return [epoch, values]
  }

  // A missing epoch: the counter store is new, was flushed or restarted, or lost the key.
  async #newEpoch(): Promise<number> {
    await this.#counters.addValue(EPOCH_KEY, randomInt(1, EPOCH_START_MAX), null)
    const epoch = await this.#counters.getValue(EPOCH_KEY)
    // Lost again at once: a one-off epoch that matches nothing written before.
    return typeof epoch === 'number' ? epoch : -randomInt(1, EPOCH_START_MAX)
  }
}

/** The fingerprint rule, shared by both resolvers: epoch, then `tag=value` in the given order. */
export function compose(
  epoch: number | string,
  tags: readonly string[],
  values: ReadonlyArray<number | string>,
): string {
  let text = String(epoch)
  for (let i = 0; i < tags.length; i++) text += `\n${tags[i]}=${values[i]}`
  // Only the hashing is remembered (a list hit hashes one text per entity), never a counter.
  return rememberedHash(text)
}

/** Each distinct tag of `groups`, numbered in order of first appearance. */
export function distinctTags(groups: ReadonlyArray<readonly string[]>): Map<string, number> {
  const at = new Map<string, number>()
  for (const group of groups) {
    for (const tag of group) if (!at.has(tag)) at.set(tag, at.size)
  }
  return at
}

/** `compose` of each group, where tag `t` has `values[at.get(t)]`; no tags → `'0'`. */
export function composeGroups(
  epoch: number | string,
  groups: ReadonlyArray<readonly string[]>,
  at: ReadonlyMap<string, number>,
  values: ReadonlyArray<number | string>,
): string[] {
  const fingerprints = new Array<string>(groups.length)
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!
    if (group.length === 0) {
      fingerprints[g] = NO_TAGS_FINGERPRINT
      continue
    }
    let text = String(epoch)
    for (const tag of group) text += `\n${tag}=${values[at.get(tag)!]}`
    fingerprints[g] = rememberedHash(text)
  }
  return fingerprints
}
