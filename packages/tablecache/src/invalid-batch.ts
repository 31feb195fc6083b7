import type { DbRecordsSpec, Interval, StorageRecordsSpec } from '@cellar/core'

/** Invalidations not yet refreshed: what to discard, what to reload, where reads must wait. */
export class InvalidBatch<R, Q> {
  readonly discards: StorageRecordsSpec<R>[] = []
  readonly reloads: DbRecordsSpec<Q>[] = []
  readonly #intervals = new Map<string, Interval[]>()
  readonly #dirty = new Set<string>()

  /** True when nothing is invalid. */
  get isEmpty(): boolean {
    return this.reloads.length === 0 && this.discards.length === 0 && this.#dirty.size === 0
  }

  /** Marks the spec's intervals invalid on its index. */
  markIntervals(spec: StorageRecordsSpec<R>): void {
    const list = this.#intervals.get(spec.indexName) ?? []
    list.push(...spec.scoreIntervals)
    this.#intervals.set(spec.indexName, list)
  }

  /** Marks a whole index invalid (no spec was given for it). */
  markDirty(indexName: string): void {
    this.#dirty.add(indexName)
  }

  /** True when a read of `spec` could see an invalid record. */
  touches(spec: StorageRecordsSpec<R>): boolean {
    if (this.#dirty.has(spec.indexName)) return true
    const invalid = this.#intervals.get(spec.indexName)
    if (invalid === undefined) return false
    return spec.scoreIntervals.some((wanted) => invalid.some((bad) => overlaps(wanted, bad)))
  }

  /** Moves everything of `other` into this batch. */
  absorb(other: InvalidBatch<R, Q>): void {
    this.discards.push(...other.discards)
    this.reloads.push(...other.reloads)
    for (const [name, list] of other.#intervals) {
      this.#intervals.set(name, [...(this.#intervals.get(name) ?? []), ...list])
    }
    for (const name of other.#dirty) this.#dirty.add(name)
  }
}

function overlaps(a: Interval, b: Interval): boolean {
  return a.ge < a.lt && b.ge < b.lt && a.ge < b.lt && b.ge < a.lt
}
