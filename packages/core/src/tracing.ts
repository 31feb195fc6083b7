import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'
import type { Ttl } from './duration.js'
import type { CacheOperation } from './events.js'
import type { Store } from './store.js'

/**
 * Name of the `node:diagnostics_channel` tracing channel around every store call the gateway
 * makes (`tracing:cellar:store:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`).
 */
export const STORE_TRACING_CHANNEL = 'cellar:store'

/** The context object published on the store tracing channel. */
export interface StoreTraceContext {
  /** The gateway method, e.g. `'get'`. */
  readonly operation: CacheOperation
  /** The store's `name`, e.g. `'redis'`. */
  readonly store: string
  /** The key, for single-key operations. */
  readonly key?: string | undefined
  /** The keys, for batch operations. */
  readonly keys?: readonly string[] | undefined
  /** Set by Node on `asyncEnd`: what the store call resolved. */
  result?: unknown
  /** Set by Node on `error`: what the store call rejected with. */
  error?: unknown
}

const channel: TracingChannel<unknown, StoreTraceContext> = tracingChannel(STORE_TRACING_CHANNEL)
// TracingChannel#hasSubscribers arrived in Node 20.13; before it, ask each sub-channel.
const hasAggregate = typeof (channel as { hasSubscribers?: unknown }).hasSubscribers === 'boolean'
// The five sub-channels, held here: asking them directly skips a getter per call on every Node
// (a subscription only swaps a channel's prototype, so these objects stay the ones to ask).
const startChannel = channel.start
const endChannel = channel.end
const asyncStartChannel = channel.asyncStart
const asyncEndChannel = channel.asyncEnd
const errorChannel = channel.error

/** True when anyone subscribes to the store tracing channel (checked per call, cheaply). */
export function isTracing(): boolean {
  return (
    startChannel.hasSubscribers ||
    endChannel.hasSubscribers ||
    asyncStartChannel.hasSubscribers ||
    asyncEndChannel.hasSubscribers ||
    errorChannel.hasSubscribers
  )
}

/** Runs a store call inside the tracing channel. */
export function traceStoreCall<T>(context: StoreTraceContext, call: () => Promise<T>): Promise<T> {
  return channel.tracePromise(call, context)
}

/** A traced `getSync` (apart from its caller, whose hot path then allocates no closure context). */
export function traceGetSync(store: Store<unknown>, name: string, key: string): unknown {
  return channel.traceSync(() => store.getSync!(key), { operation: 'get', store: name, key })
}

/** A traced `setSync` (apart from its caller, like `traceGetSync`). */
export function traceSetSync(
  store: Store<unknown>,
  name: string,
  key: string,
  value: unknown,
  ttl: Ttl | undefined,
): void {
  channel.traceSync(() => store.setSync!(key, value, ttl), { operation: 'set', store: name, key })
}

/**
 * Name of the `node:diagnostics_channel` tracing channel around every call a `Lock` makes to its
 * store's lock backend (`tracing:cellar:lock:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`).
 */
export const LOCK_TRACING_CHANNEL = 'cellar:lock'

/** The lock backend call a lock trace is about. */
export type LockOperation = 'acquire' | 'release' | 'forceRelease' | 'extend' | 'inspect'

/** The context object published on the lock tracing channel. */
export interface LockTraceContext {
  /** The backend call: `'acquire'` for each try, also inside `block` and `run`. */
  readonly operation: LockOperation
  /** The lock's name. */
  readonly lock: string
  /** The lock's owner token. */
  readonly owner: string
  /** Set by Node on `asyncEnd`: what the backend call resolved. */
  result?: unknown
  /** Set by Node on `error`: what the backend call rejected with. */
  error?: unknown
}

const lockChannel: TracingChannel<unknown, LockTraceContext> = tracingChannel(LOCK_TRACING_CHANNEL)

/** True when anyone subscribes to the lock tracing channel. */
export function isLockTracing(): boolean {
  if (hasAggregate) return lockChannel.hasSubscribers
  return (
    lockChannel.start.hasSubscribers ||
    lockChannel.end.hasSubscribers ||
    lockChannel.asyncStart.hasSubscribers ||
    lockChannel.asyncEnd.hasSubscribers ||
    lockChannel.error.hasSubscribers
  )
}

/** Runs a lock backend call inside the lock tracing channel. */
export function traceLockCall<T>(context: LockTraceContext, call: () => Promise<T>): Promise<T> {
  return lockChannel.tracePromise(call, context)
}
