import type { CellarError } from './errors.js'

/** What happened to a key, as reported to an event listener. */
export type CacheEvent =
  | { readonly type: 'hit'; readonly key: string; readonly store: string }
  | { readonly type: 'miss'; readonly key: string; readonly store: string }
  | { readonly type: 'write'; readonly key: string; readonly store: string }
  | { readonly type: 'delete'; readonly key: string; readonly store: string }
  | {
      readonly type: 'error'
      readonly key: string | undefined
      readonly store: string
      readonly error: CellarError
    }

/** Receives cache events; must not throw (a throwing listener is ignored). */
export type CacheEventListener = (event: CacheEvent) => void
