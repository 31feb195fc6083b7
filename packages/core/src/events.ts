import type { CellarError } from './errors.js'

/** The gateway method an event comes from. */
export type CacheOperation =
  | 'get'
  | 'getMany'
  | 'set'
  | 'setMany'
  | 'add'
  | 'exists'
  | 'delete'
  | 'deleteMany'
  | 'increment'
  | 'touch'
  | 'ttl'
  | 'keys'
  | 'clear'

/** What every cache event carries. */
export interface CacheEventBase {
  /** The store's `name`. */
  readonly store: string
  /** The gateway method that produced the event. */
  readonly operation: CacheOperation
}

/**
 * What happened, as reported to event listeners. Reads report `hit`/`miss` per key (an `add`
 * that found a live entry reports `hit`); writes `write` per key written; `delete` reports
 * whether the key was removed (for `deleteMany`, one event with the keys and the count).
 */
export type CacheEvent =
  | (CacheEventBase & { readonly type: 'hit' | 'miss' | 'write' | 'touch'; readonly key: string })
  | (CacheEventBase & { readonly type: 'delete'; readonly key: string; readonly removed: boolean })
  | (CacheEventBase & {
      readonly type: 'delete'
      readonly key: undefined
      readonly keys: readonly string[]
      readonly removed: number
    })
  | (CacheEventBase & { readonly type: 'increment'; readonly key: string; readonly value: number })
  | (CacheEventBase & { readonly type: 'clear'; readonly key: undefined })
  | (CacheEventBase & {
      readonly type: 'error'
      readonly key: string | undefined
      readonly error: CellarError
    })

/** The `type` of a `CacheEvent`. */
export type CacheEventType = CacheEvent['type']

/** Receives cache events; must not throw (a throwing listener is ignored). */
export type CacheEventListener = (event: CacheEvent) => void
