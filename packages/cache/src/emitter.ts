import type { CacheEvent, CellarError } from '@cellar/core'

/** The facade's typed events and what each carries. */
export interface CacheEvents {
  /** A read found a live entry. */
  hit: { readonly store: string; readonly key: string; readonly tags?: readonly string[] }
  /** A read found nothing (or a value that failed to decode or validate). */
  missed: { readonly store: string; readonly key: string; readonly tags?: readonly string[] }
  /** An entry was written. */
  written: { readonly store: string; readonly key: string; readonly tags?: readonly string[] }
  /** An entry was removed by `forget`/`pull`. */
  forgotten: { readonly store: string; readonly key: string; readonly tags?: readonly string[] }
  /** `flush()` ran: the whole cache prefix, or the entries of some tags. */
  flushed: { readonly store: string; readonly tags?: readonly string[] }
  /** A failover store moved from one store to the next after a backend failure. */
  failedOver: {
    readonly store: string
    readonly from: string
    readonly to: string
    readonly error: CellarError
  }
  /** A lock was acquired through the facade. */
  lockAcquired: {
    readonly store: string
    readonly name: string
    readonly owner: string
    readonly token: number
  }
  /** A lock was released through the facade. */
  lockReleased: { readonly store: string; readonly name: string; readonly owner: string }
  /**
   * `remember` served an expired value kept by `grace`: the loader failed (`error`), ran past the
   * soft `timeout` (`timeout`), or failed recently and is backing off (`backoff`).
   */
  servedStale: {
    readonly store: string
    readonly key: string
    readonly reason: 'error' | 'timeout' | 'backoff'
    readonly error?: unknown
  }
  /** A store or loader failed in a way the caller did not see (a background refresh, a decode). */
  error: { readonly store: string; readonly key: string | undefined; readonly error: unknown }
}

const STORE_EVENTS = ['hit', 'missed', 'written', 'forgotten', 'flushed', 'error'] as const

/** A listener of one event type. */
export type CacheListener<E extends keyof CacheEvents> = (event: CacheEvents[E]) => void

/**
 * A tiny typed emitter; hand-written because listener errors must never reach the cache call
 * that emitted (node's EventEmitter rethrows them).
 */
export class CacheEmitter {
  readonly #listeners = new Map<keyof CacheEvents, Array<(event: never) => void>>()

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof CacheEvents>(type: E, listener: CacheListener<E>): () => void {
    const list = this.#listeners.get(type) ?? []
    list.push(listener as (event: never) => void)
    this.#listeners.set(type, list)
    return () => {
      const at = list.indexOf(listener as (event: never) => void)
      if (at !== -1) list.splice(at, 1)
    }
  }

  /** True when anyone listens to `type` (lets callers skip building the event). */
  listens(type: keyof CacheEvents): boolean {
    return (this.#listeners.get(type)?.length ?? 0) > 0
  }

  /** True when anyone listens to an event that comes from store calls (not locks or failover). */
  active(): boolean {
    for (const type of STORE_EVENTS) if (this.listens(type)) return true
    return false
  }

  /** Calls every listener of `type`; a throwing listener is ignored. */
  emit<E extends keyof CacheEvents>(type: E, event: CacheEvents[E]): void {
    const list = this.#listeners.get(type)
    if (list === undefined) return
    for (const listener of list) {
      try {
        ;(listener as CacheListener<E>)(event)
      } catch {
        // A listener must not break the cache call it observes.
      }
    }
  }
}

/**
 * Turns one gateway event into the facade's event (`tags` of a tagged cache carried along);
 * events the facade does not expose (counters, touches) are dropped.
 */
export function relayGatewayEvent(
  events: CacheEmitter,
  store: string,
  tags: readonly string[] | undefined,
  event: CacheEvent,
): void {
  const extra = tags === undefined ? {} : { tags }
  if (event.type === 'hit') events.emit('hit', { store, key: event.key, ...extra })
  else if (event.type === 'miss') events.emit('missed', { store, key: event.key, ...extra })
  else if (event.type === 'write') events.emit('written', { store, key: event.key, ...extra })
  else if (event.type === 'delete' && event.key !== undefined && event.removed) {
    events.emit('forgotten', { store, key: event.key, ...extra })
  } else if (event.type === 'clear') events.emit('flushed', { store, ...extra })
  else if (event.type === 'error')
    events.emit('error', { store, key: event.key, error: event.error })
}
