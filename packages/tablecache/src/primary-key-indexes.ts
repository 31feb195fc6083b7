import type { Adjustment, DbRecordsSpec, Indexes, IndexSpec } from '@cellar/core'
import { tableCacheError } from './errors.js'
import { Interval } from './interval.js'
import { StorageRecordsSpec, setLookupKeys } from './records-spec.js'

/** A primary key as a record holds it. */
export type PrimaryKey = string | number

/** The name of the hashed primary key index every built-in `Indexes` has. */
export const PRIMARY_KEY_INDEX = 'primaryKey'

/** FNV-1a (32 bits) of the key's string form: the score of a record on the primary key index. */
export function primaryKeyHash(key: PrimaryKey): number {
  const text = String(key)
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** Reads `spec.keys` of a primary key request: a list of keys, or undefined for "all". */
export function requestedKeys(spec: IndexSpec): string[] | undefined {
  return requestedKeyValues(spec)?.map(String)
}

/**
 * `requestedKeys` without the string conversion: a copy of the list as given (strings and
 * numbers), or undefined for "all"; throws `E_INVALID_SPEC` on anything else.
 */
export function requestedKeyValues(spec: IndexSpec): PrimaryKey[] | undefined {
  const keys = spec.keys
  if (keys === undefined) return undefined
  if (Array.isArray(keys)) {
    let i = 0
    for (; i < keys.length; i++) {
      const type = typeof keys[i]
      if (type !== 'string' && type !== 'number') break
    }
    if (i === keys.length) return (keys as PrimaryKey[]).slice()
  }
  throw tableCacheError(
    'E_INVALID_SPEC',
    `'${spec.indexName}' keys must be a list of strings or numbers`,
  )
}

/**
 * The storage spec of some keys on the hashed index: exactly those keys (a storage looks them
 * up), with a recheck; its intervals (one tiny interval per hash), its keys as strings and the
 * recheck's set are only built when a storage or an invalidation check asks for them. A
 * `LocalStorageTable` looks the keys up as given, numbers without a string round trip.
 */
export function keysStorageSpec<R>(
  keys: readonly PrimaryKey[],
  primaryKey: (record: R) => string,
): StorageRecordsSpec<R> {
  const unique = uniqueKeys(keys)
  let strings: readonly string[] | undefined
  const asStrings = () => {
    strings ??= unique.map(String)
    return strings
  }
  let wanted: ReadonlySet<string> | undefined
  // The recheck drops records whose key merely collides with a wanted hash.
  const spec = new StorageRecordsSpec<R>(
    PRIMARY_KEY_INDEX,
    () => hashIntervals(asStrings()),
    (record) => {
      wanted ??= new Set(asStrings())
      return wanted.has(primaryKey(record))
    },
    asStrings,
  )
  setLookupKeys(spec, unique)
  return spec
}

// The keys without repeats, compared by their string form as records' keys are. Two numbers have
// the same string form exactly when a Set takes them for one (0 and -0 alike, NaN once), so a
// list of numbers is deduplicated as it is; a list with strings as strings.
function uniqueKeys(keys: readonly PrimaryKey[]): readonly PrimaryKey[] {
  let numbers = true
  for (let i = 0; i < keys.length; i++) {
    if (typeof keys[i] !== 'number') {
      numbers = false
      break
    }
  }
  if (numbers && smallIntegersApart(keys as readonly number[])) return keys
  const list = numbers ? keys : keys.map(String)
  const set = new Set(list)
  return set.size === list.length ? list : [...set]
}

// A reused open-addressing table of 32-bit integers: a slot is taken when its stamp is the current
// call's. Checking 50 keys costs a tenth of building a Set of them.
const BITS = 8
const SLOTS = 1 << BITS
const stamps = new Int32Array(SLOTS)
const values = new Int32Array(SLOTS)
let stamp = 0

// True when every key is a 32-bit integer (-0 counts as 0), there are at most half as many as
// slots, and no two are equal; false means "not known": the caller deduplicates with a Set.
function smallIntegersApart(keys: readonly number[]): boolean {
  if (keys.length > SLOTS / 2) return false
  stamp = (stamp + 1) | 0
  if (stamp === 0) {
    stamps.fill(0)
    stamp = 1
  }
  // Module bindings read once: in the loop they would be context loads (with a check for `let`).
  const current = stamp
  const taken = stamps
  const held = values
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number
    if (key !== (key | 0)) return false
    let slot = Math.imul(key, 0x9e3779b1) >>> (32 - BITS)
    while (taken[slot] === current) {
      if (held[slot] === key) return false
      slot = (slot + 1) & (SLOTS - 1)
    }
    taken[slot] = current
    held[slot] = key
  }
  return true
}

// Hash scores are integers, so [h, h + 1) holds exactly the score h; distinct sorted hashes give
// intervals that never overlap.
function hashIntervals(keys: readonly string[]): Interval[] {
  const hashes = new Float64Array(keys.length)
  for (let i = 0; i < keys.length; i++) hashes[i] = primaryKeyHash(keys[i] as string)
  hashes.sort()
  const intervals: Interval[] = []
  for (let i = 0; i < hashes.length; i++) {
    const hash = hashes[i] as number
    if (i === 0 || hash !== hashes[i - 1]) intervals.push(new Interval(hash, hash + 1))
  }
  return intervals
}

/** How `PrimaryKeyIndexes` and `AllIndexes` reach the DB. */
export interface PrimaryKeyIndexesOptions<R, Q> {
  /** The record's primary key. */
  primaryKey: (record: R) => PrimaryKey
  /** The query for every row, e.g. `(knex) => knex('users')`. */
  queryAll: () => Q
  /** The query for the rows with these keys, e.g. `(knex) => knex('users').whereIn('id', keys)`. */
  queryKeys: (keys: readonly string[]) => Q
}

interface KeysAdjustment<R, Q> extends Adjustment<R, Q> {
  readonly target: ReadonlySet<string> | 'all'
}

/**
 * One hashed primary key index: `{ indexName: 'primaryKey', keys }` asks for some keys, no `keys`
 * for all. Load and adjust with the keys to hold (or none for all).
 */
export class PrimaryKeyIndexes<R, Q = unknown> implements Indexes<R, Q> {
  readonly indexNames: readonly string[] = [PRIMARY_KEY_INDEX]
  readonly #options: PrimaryKeyIndexesOptions<R, Q>
  #loaded: ReadonlySet<string> | 'all' = new Set()

  constructor(options: PrimaryKeyIndexesOptions<R, Q>) {
    this.#options = options
  }

  /** The hash of the record's primary key. */
  score(indexName: string, record: R): number {
    this.#check(indexName)
    return primaryKeyHash(this.#options.primaryKey(record))
  }

  /** The record's primary key as a string. */
  primaryKey(record: R): string {
    return String(this.#options.primaryKey(record))
  }

  /** Some keys: their hash intervals with a recheck; all: every score. */
  storageRecordsSpec(spec: IndexSpec): StorageRecordsSpec<R> {
    this.#check(spec.indexName)
    const keys = requestedKeyValues(spec)
    if (keys === undefined) return StorageRecordsSpec.everything(PRIMARY_KEY_INDEX)
    return keysStorageSpec(keys, (record: R) => this.primaryKey(record))
  }

  /** `queryKeys(keys)`, or `queryAll()` without keys. */
  dbRecordsSpec(spec: IndexSpec): DbRecordsSpec<Q> {
    this.#check(spec.indexName)
    const keys = requestedKeys(spec)
    return { query: keys === undefined ? this.#options.queryAll() : this.#options.queryKeys(keys) }
  }

  /** True when every requested key (or all, when all are asked for) is loaded. */
  covers(spec: IndexSpec): boolean {
    this.#check(spec.indexName)
    const keys = requestedKeys(spec)
    const loaded = this.#loaded
    if (loaded === 'all') return true
    return keys?.every((key) => loaded.has(key)) ?? false
  }

  /** Expires loaded keys that are not asked for; loads asked keys that are not loaded. */
  prepareAdjustment(spec: IndexSpec): Adjustment<R, Q> {
    this.#check(spec.indexName)
    const keys = requestedKeys(spec)
    const loaded = this.#loaded
    if (keys === undefined) {
      const adjustment: KeysAdjustment<R, Q> = {
        target: 'all',
        expireSpec: undefined,
        newSpec: loaded === 'all' ? undefined : { query: this.#options.queryAll() },
      }
      return adjustment
    }
    const target = new Set(keys)
    const missing = loaded === 'all' ? [] : keys.filter((key) => !loaded.has(key))
    const adjustment: KeysAdjustment<R, Q> = {
      target,
      expireSpec: new StorageRecordsSpec<R>(
        PRIMARY_KEY_INDEX,
        [Interval.everything()],
        (record) => !target.has(this.primaryKey(record)),
      ),
      newSpec: missing.length === 0 ? undefined : { query: this.#options.queryKeys(missing) },
    }
    return adjustment
  }

  /** Marks the adjustment's keys (or all) as what is loaded. */
  commitAdjustment(adjustment: Adjustment<R, Q>): void {
    this.#loaded = (adjustment as KeysAdjustment<R, Q>).target
  }

  #check(indexName: string): void {
    if (indexName !== PRIMARY_KEY_INDEX) {
      throw tableCacheError(
        'E_INVALID_SPEC',
        `no index '${indexName}' (PrimaryKeyIndexes has '${PRIMARY_KEY_INDEX}')`,
      )
    }
  }
}

/** The name of `AllIndexes`' index that selects every record. */
export const ALL_INDEX = 'all'

/**
 * Every record of the table, always: `{ indexName: 'all' }` reads everything and
 * `{ indexName: 'primaryKey', keys }` reads some keys; both are covered once loaded.
 */
export class AllIndexes<R, Q = unknown> implements Indexes<R, Q> {
  readonly indexNames: readonly string[] = [ALL_INDEX, PRIMARY_KEY_INDEX]
  readonly #keys: PrimaryKeyIndexes<R, Q>
  readonly #queryAll: () => Q
  #loaded = false

  constructor(options: PrimaryKeyIndexesOptions<R, Q>) {
    this.#keys = new PrimaryKeyIndexes(options)
    this.#queryAll = options.queryAll
  }

  /** 0 on `all`; the key's hash on `primaryKey`. */
  score(indexName: string, record: R): number {
    return indexName === ALL_INDEX ? 0 : this.#keys.score(indexName, record)
  }

  /** The record's primary key as a string. */
  primaryKey(record: R): string {
    return this.#keys.primaryKey(record)
  }

  /** `all`: every score; `primaryKey`: the keys' hash intervals with a recheck. */
  storageRecordsSpec(spec: IndexSpec): StorageRecordsSpec<R> {
    if (spec.indexName === ALL_INDEX) return StorageRecordsSpec.everything(ALL_INDEX)
    return this.#keys.storageRecordsSpec(spec)
  }

  /** `queryAll()` for `all`, else as `PrimaryKeyIndexes`. */
  dbRecordsSpec(spec: IndexSpec): DbRecordsSpec<Q> {
    if (spec.indexName === ALL_INDEX) return { query: this.#queryAll() }
    return this.#keys.dbRecordsSpec(spec)
  }

  /** True once loaded, for any request on either index. */
  covers(spec: IndexSpec): boolean {
    if (spec.indexName !== ALL_INDEX) requestedKeys(spec)
    return this.#loaded
  }

  /** Reloads everything: expires all stored records and loads every row. */
  prepareAdjustment(spec: IndexSpec): Adjustment<R, Q> {
    if (spec.indexName !== ALL_INDEX) {
      throw tableCacheError('E_INVALID_SPEC', `AllIndexes loads and adjusts on '${ALL_INDEX}' only`)
    }
    return {
      expireSpec: StorageRecordsSpec.everything(ALL_INDEX),
      newSpec: { query: this.#queryAll() },
    }
  }

  /** Marks the table as fully loaded. */
  commitAdjustment(): void {
    this.#loaded = true
  }
}
