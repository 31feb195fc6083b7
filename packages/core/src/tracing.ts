import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'
import type { CacheOperation } from './events.js'

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

/** True when anyone subscribes to the store tracing channel (checked per call, cheaply). */
export function isTracing(): boolean {
  if (hasAggregate) return channel.hasSubscribers
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  )
}

/** Runs a store call inside the tracing channel. */
export function traceStoreCall<T>(context: StoreTraceContext, call: () => Promise<T>): Promise<T> {
  return channel.tracePromise(call, context)
}
