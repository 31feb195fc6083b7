import type { CellarError } from '@cellar/core'

/** Which read an event is about. */
export type RepositoryReadKind = 'entity' | 'list' | 'query'

/**
 * What `CachedRepository` reports: hits and misses with their key; reads that are not cached
 * and why (`uncacheable`: a filter or argument without a stable hash; `bypass`: a cursor page
 * after the first); the tags each committed write bumped; and bumps that failed after commit.
 */
export type RepositoryEvent =
  | { readonly type: 'hit' | 'miss'; readonly kind: RepositoryReadKind; readonly key: string }
  | {
      readonly type: 'uncacheable' | 'bypass'
      readonly kind: RepositoryReadKind
      readonly reason: string
    }
  | { readonly type: 'invalidate'; readonly tags: readonly string[] }
  | { readonly type: 'error'; readonly error: CellarError }

/** Receives repository events; a throwing listener is ignored. */
export type RepositoryEventListener = (event: RepositoryEvent) => void
