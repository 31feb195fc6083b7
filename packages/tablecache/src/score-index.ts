import type { StorageRecordsSpec } from '@cellar/core'
import BTreeModule from 'sorted-btree'

// sorted-btree is CommonJS with `exports.default`; Node's ESM loader hands us module.exports.
const BTree: typeof BTreeModule =
  (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule

// Records sharing one score, by primary key. Never changed in place: a change makes a changed
// copy (an O(1) copy-on-write clone plus the change), so a tree cloned before still sees the old
// group.
class SameScore<R> {
  constructor(readonly byKey: BTreeModule<string, R>) {}
}

type Slot<R> = R | SameScore<R>

/**
 * One index of `LocalStorageTable`: a B+ tree keyed by the score alone (plain numbers compare
 * without reading another object, which a (score, key) pair as the key would need at every
 * step of a search), holding the record with that score, or the records sharing it by primary
 * key. `clone()` is O(1) copy-on-write.
 */
export type ScoreIndex<R> = BTreeModule<number, Slot<R>>

function compareScores(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** An empty index. */
export function emptyIndex<R>(): ScoreIndex<R> {
  return new BTree<number, Slot<R>>(undefined, compareScores)
}

/** Indexes `record` (primary key `key`) at `score`; the key must not be indexed already. */
export function indexPut<R>(
  index: ScoreIndex<R>,
  score: number,
  key: string,
  record: R,
  primaryKey: (record: R) => string,
): void {
  const slot = index.get(score)
  if (slot === undefined) {
    index.set(score, record)
    return
  }
  let group: BTreeModule<string, R>
  if (slot instanceof SameScore) {
    group = slot.byKey.clone()
  } else {
    const other = primaryKey(slot as R)
    if (other === key) {
      index.set(score, record)
      return
    }
    group = new BTree<string, R>()
    group.set(other, slot as R)
  }
  group.set(key, record)
  index.set(score, new SameScore(group))
}

/** Removes the record with primary key `key` from `score`, if it is there. */
export function indexRemove<R>(
  index: ScoreIndex<R>,
  score: number,
  key: string,
  primaryKey: (record: R) => string,
): void {
  const slot = index.get(score)
  if (slot === undefined) return
  if (!(slot instanceof SameScore)) {
    if (primaryKey(slot as R) === key) index.delete(score)
    return
  }
  if (!slot.byKey.has(key)) return
  const group = slot.byKey.clone()
  group.delete(key)
  if (group.size === 1) index.set(score, group.get(group.minKey() as string) as R)
  else index.set(score, new SameScore(group))
}

/** The records whose score lies in one of the spec's intervals and that pass its recheck. */
export function indexRange<R>(index: ScoreIndex<R>, spec: StorageRecordsSpec<R>): R[] {
  const out: R[] = []
  const recheck = spec.recheck
  const collect = (_score: number, slot: Slot<R>) => {
    if (slot instanceof SameScore) {
      for (const record of slot.byKey.values()) {
        if (recheck === undefined || recheck(record)) out.push(record)
      }
    } else if (recheck === undefined || recheck(slot as R)) {
      out.push(slot as R)
    }
  }
  for (const { ge, lt } of spec.scoreIntervals) {
    if (ge < lt) index.forRange(ge, lt, false, collect)
  }
  return out
}
