// The prefix of the last generation `member` wrote: a read by key names many versions of one
// generation, and this saves a base-36 conversion per key.
let lastGeneration = -1
let lastPrefix = ''

/** A stored version of a row: its hash field, `<generation base 36>:<pk>`. */
export function member(generation: number, primaryKey: string): string {
  if (generation !== lastGeneration) {
    lastGeneration = generation
    lastPrefix = `${generation.toString(36)}:`
  }
  return lastPrefix + primaryKey
}

/** The generation of a member written by `member`, read without cutting the string. */
export function versionOf(text: string): number {
  let version = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 58) return version // ':'
    version = version * 36 + (c <= 57 ? c - 48 : c - 87)
  }
  return Number.NaN
}

/** The primary key of a member written by `member`. */
export const primaryKeyOf = (text: string): string => text.slice(text.indexOf(':') + 1)

/** The generation and primary key of a member written by `member`. */
export function parseMember(text: string): [generation: number, primaryKey: string] {
  const colon = text.indexOf(':')
  return [Number.parseInt(text.slice(0, colon), 36), text.slice(colon + 1)]
}

// A primary key written as a plain non-negative integer is held as that number: numbers hash and
// compare without reading a string. Only canonical digit strings convert, so keys stay distinct.
function mapKey(primaryKey: string): string | number {
  const length = primaryKey.length
  if (length === 0 || length > 15) return primaryKey
  const first = primaryKey.charCodeAt(0)
  if (first < 48 || first > 57 || (first === 48 && length > 1)) return primaryKey
  for (let i = 1; i < length; i++) {
    const c = primaryKey.charCodeAt(i)
    if (c < 48 || c > 57) return primaryKey
  }
  return Number(primaryKey)
}

// Integer keys up to this bound may sit in the dense array (4 bytes per slot).
const DENSE_BOUND = 2 ** 26
// A key goes to the dense array only while slots stay at most this many per stored key, so a
// few large keys never allocate a big array.
const DENSE_SPREAD = 4

/**
 * Primary key → generation of its visible version. Integer keys of a dense range (the common
 * case: database ids) are slots of a typed array, one indexed load per lookup; a `Map` lookup
 * in a table of 10^5–10^6 keys is a few cache misses (measured ~4× slower with cold caches).
 * Other keys, and integer keys far from the rest, live in a `Map`. Generations are never 0.
 */
export class LiveVersions {
  readonly #map = new Map<string | number, number>()
  #dense = new Uint32Array(0)
  #denseCount = 0

  /** The generation of the key's visible version, or undefined. */
  get(primaryKey: string): number | undefined {
    const key = mapKey(primaryKey)
    if (typeof key === 'number' && key < this.#dense.length) {
      const generation = this.#dense[key] as number
      if (generation !== 0) return generation
    }
    return this.#map.get(key)
  }

  /** Records the key's visible version. */
  set(primaryKey: string, generation: number): void {
    const key = mapKey(primaryKey)
    if (typeof key === 'number' && this.#fitsDense(key)) {
      if (key >= this.#dense.length) this.#grow(key)
      if (this.#dense[key] === 0) {
        this.#denseCount++
        this.#map.delete(key)
      }
      this.#dense[key] = generation
      return
    }
    this.#clearSlot(key)
    this.#map.set(key, generation)
  }

  /** Forgets the key's visible version. */
  delete(primaryKey: string): void {
    const key = mapKey(primaryKey)
    this.#clearSlot(key)
    this.#map.delete(key)
  }

  /** Forgets every key. */
  clear(): void {
    this.#map.clear()
    this.#dense = new Uint32Array(0)
    this.#denseCount = 0
  }

  #fitsDense(key: number): boolean {
    return (
      key < DENSE_BOUND &&
      (key < this.#dense.length || key < DENSE_SPREAD * (this.#denseCount + 1024))
    )
  }

  #grow(key: number): void {
    let size = Math.max(1024, this.#dense.length)
    while (size <= key) size *= 2
    const grown = new Uint32Array(Math.min(size, DENSE_BOUND))
    grown.set(this.#dense)
    this.#dense = grown
  }

  #clearSlot(key: string | number): void {
    if (typeof key === 'number' && key < this.#dense.length && this.#dense[key] !== 0) {
      this.#dense[key] = 0
      this.#denseCount--
    }
  }
}

/**
 * What the owner process knows about a `RedisStorageTable`'s versions: the visible generation,
 * each primary key's live version, superseded versions with the generation that retired them,
 * reads running per generation, and what the scratch space has staged for the next generation.
 */
export class VersionBook {
  /** The generation reads start at. */
  generation = 1
  /** Primary key → generation of its visible version. */
  readonly live = new LiveVersions()
  /** Member of a superseded version → the first generation that no longer shows it. */
  readonly dead = new Map<string, number>()
  /** Primary keys with a version staged for the next generation. */
  readonly stagedPuts = new Set<string>()
  /** Primary keys whose visible version the next generation drops. */
  readonly stagedDiscards = new Set<string>()
  readonly #readers = new Map<number, number>()

  /** The generation staged versions are written for. */
  get staging(): number {
    return this.generation + 1
  }

  /** True when nothing is staged. */
  get nothingStaged(): boolean {
    return this.stagedPuts.size === 0 && this.stagedDiscards.size === 0
  }

  /** Registers a read of the current generation; returns that generation. */
  enter(): number {
    const generation = this.generation
    this.#readers.set(generation, (this.#readers.get(generation) ?? 0) + 1)
    return generation
  }

  /** Ends a read; true when it was the last of its generation and versions wait for removal. */
  leave(generation: number): boolean {
    const count = (this.#readers.get(generation) ?? 1) - 1
    if (count > 0) this.#readers.set(generation, count)
    else this.#readers.delete(generation)
    return count <= 0 && this.dead.size > 0
  }

  /**
   * True when the version `text` (of `primaryKey`, written for `version`) shows at `generation`:
   * it is no newer, and it is the live version or one a later merge retired.
   */
  visible(text: string, version: number, primaryKey: string, generation: number): boolean {
    if (version > generation) return false
    // With no retired version waiting for removal, every stored version up to the current
    // generation is a live one (direct writes replace or remove the old version in the same
    // step), so the maps need not be read.
    if (this.dead.size === 0) return true
    if (this.live.get(primaryKey) === version) return true
    const retired = this.dead.get(text)
    return retired !== undefined && retired > generation
  }

  /** True when the stored version `text` shows at `generation` (see `visible`). */
  shows(text: string, generation: number): boolean {
    const version = versionOf(text)
    // NaN (not a member this table wrote) fails the comparison too.
    if (!(version <= generation)) return false
    return this.dead.size === 0 || this.visible(text, version, primaryKeyOf(text), generation)
  }

  /** Moves to the next generation: staged versions become live, the ones they replace retire. */
  merge(): void {
    const next = this.staging
    for (const keys of [this.stagedDiscards, this.stagedPuts]) {
      for (const primaryKey of keys) {
        const previous = this.live.get(primaryKey)
        if (previous === undefined || previous === next) continue
        this.dead.set(member(previous, primaryKey), next)
        this.live.delete(primaryKey)
      }
    }
    for (const primaryKey of this.stagedPuts) this.live.set(primaryKey, next)
    this.generation = next
    this.stagedPuts.clear()
    this.stagedDiscards.clear()
  }

  /**
   * Drops the scratch space after a failed staged write: staged versions (which may or may not
   * have landed) are retired from the start and their generation is skipped.
   */
  abandon(): void {
    for (const primaryKey of this.stagedPuts) this.dead.set(member(this.staging, primaryKey), 0)
    this.stagedPuts.clear()
    this.stagedDiscards.clear()
    this.generation += 1
  }

  /** Forgets every version (the keys were deleted); later versions never reuse a generation. */
  reset(): void {
    this.stagedPuts.clear()
    this.stagedDiscards.clear()
    this.live.clear()
    this.dead.clear()
    this.generation += 2
  }

  /** Retired versions no running read can still see. */
  collectable(): string[] {
    const oldest = Math.min(...this.#readers.keys())
    const doomed: string[] = []
    for (const [text, retired] of this.dead) if (retired <= oldest) doomed.push(text)
    return doomed
  }
}
