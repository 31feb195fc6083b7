/**
 * How raw mode keeps a value in the LRU: lru-cache cannot hold `null` itself, and the entry is
 * where an awaited read keeps the settled promise it handed out, so that later awaited reads of
 * the same entry allocate and resolve nothing (see `settledRead`). A write makes a new entry,
 * so a promise never outlives the value it resolves; `touch` keeps the entry and its promise.
 */
export interface RawEntry {
  readonly value: unknown
  // The promise of `read(value)` handed out last, and the `read` it was made with.
  settled: Promise<unknown> | undefined
  read: ((value: unknown) => unknown) | undefined
}

/** A new raw entry (an object literal: one shape for every entry, cheapest to make). */
export function rawEntry(value: unknown): RawEntry {
  return { value, settled: undefined, read: undefined }
}

/** A settled promise of `read(entry.value)`: the one made before for this entry and `read`, if any. */
export function settledRead(entry: RawEntry, read: (value: unknown) => unknown): Promise<unknown> {
  return entry.read === read ? entry.settled! : settle(entry, read)
}

// Apart from settledRead, so that its common case stays small enough to inline.
function settle(entry: RawEntry, read: (value: unknown) => unknown): Promise<unknown> {
  const value = read(entry.value)
  const settled = Promise.resolve(value)
  // Promise.resolve adopts a thenable (calls its `then`) on every read: such a value is never
  // kept, so each read still adopts it afresh, as it did before promises were kept.
  if (!isThenable(value)) {
    entry.settled = settled
    entry.read = read
  }
  return settled
}

function isThenable(value: unknown): boolean {
  if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) return false
  try {
    return typeof (value as { then?: unknown }).then === 'function'
  } catch {
    return true // a `then` getter that throws: Promise.resolve rejects; keep nothing
  }
}
