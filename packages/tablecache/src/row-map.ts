// The row map of `LocalStorageTable`: records by primary key.

/**
 * A row's key: a primary key written as a plain non-negative integer becomes that number (numbers
 * hash and compare without reading a string), any other key stays a string. Distinct primary keys
 * keep distinct row keys, since only canonical digit strings convert.
 */
export type RowKey = string | number

export function rowKey(key: string): RowKey {
  const length = key.length
  if (length === 0 || length > 15) return key
  const first = key.charCodeAt(0)
  if (first < 48 || first > 57 || (first === 48 && length > 1)) return key
  for (let i = 1; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return key
  }
  return Number(key)
}

/**
 * `rowKey(String(key))` for a number key, without making the string: an integer from 0 to
 * 999,999,999,999,999 is written with at most 15 digits and no leading zero, so it is its own row
 * key (-0, written '0', becomes 0); any other number goes through its string form.
 */
export function numberRowKey(key: number): RowKey {
  return Number.isInteger(key) && key >= 0 && key < 1e15 ? key + 0 : rowKey(String(key))
}

// Integer keys below this go in the array (V8's small-integer range).
export const DENSE_LIMIT = 2 ** 30

/**
 * Records by row key. Integer keys below 2^30 sit in a plain array indexed by the key: a lookup is
 * one load, where a `Map` of 500,000 keys costs two to three times as long (its hash table is
 * another cache miss away). Removed slots are deleted (holes). While the keys are dense the array
 * has a slot (4–8 bytes) per key up to the largest one, and keeps them when most records are then
 * deleted; keys far apart, or a window moving on to ever larger keys, make V8 turn it into a
 * dictionary (sized by the records held, looked up about as fast as a `Map`). Other keys are in a
 * `Map`.
 */
export class RowMap<R> {
  #dense: R[] = []
  // Records in the array, and one past the largest key it ever held (since the last clear).
  #denseCount = 0
  #denseTop = 0
  readonly #other = new Map<RowKey, R>()

  get(key: RowKey): R | undefined {
    if (typeof key === 'number' && key < DENSE_LIMIT) return this.#dense[key]
    return this.#other.get(key)
  }

  set(key: RowKey, record: R): void {
    if (typeof key === 'number' && key < DENSE_LIMIT) {
      const dense = this.#dense
      if (dense[key] === undefined) this.#denseCount++
      if (key >= this.#denseTop) this.#denseTop = key + 1
      dense[key] = record
    } else this.#other.set(key, record)
  }

  delete(key: RowKey): void {
    if (typeof key === 'number' && key < DENSE_LIMIT) {
      const dense = this.#dense
      if (dense[key] !== undefined) {
        this.#denseCount--
        delete dense[key]
      }
    } else this.#other.delete(key)
  }

  /**
   * True when every key is an integer below 2^30 (the array holds every record) and the array
   * holds at least half of the keys below its largest: then a short span of keys is read with
   * `keySpan`, a slot per key. Sparser keys may have made V8 turn the array into a dictionary,
   * where each of those slots would be a hash lookup.
   */
  get walkable(): boolean {
    return this.#other.size === 0 && this.#denseCount * 2 >= this.#denseTop
  }

  /**
   * The records with integer keys from `from` up to (not including) `to`, in key order: one array
   * slot per integer, so for short spans only (0 <= from, to <= 2^30).
   */
  keySpan(from: number, to: number): R[] {
    const dense = this.#dense
    const out: R[] = []
    for (let key = from; key < to; key++) {
      const record = dense[key]
      if (record !== undefined) out.push(record)
    }
    return out
  }

  clear(): void {
    this.#dense = []
    this.#denseCount = 0
    this.#denseTop = 0
    this.#other.clear()
  }
}
