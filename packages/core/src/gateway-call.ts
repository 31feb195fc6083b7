import { CellarError } from './errors.js'
import type { CacheOperation } from './events.js'
import type { GatewayEvents } from './gateway-read.js'
import { isTracing, traceStoreCall } from './tracing.js'

/**
 * One store call of the gateway, traced and with its failures reported as `error` events. Not
 * async itself: with no listener and no tracer the store's own promise is returned.
 */
export function callStore<T>(
  events: GatewayEvents,
  operation: CacheOperation,
  key: string | undefined,
  keys: readonly string[] | undefined,
  op: () => Promise<T>,
): Promise<T> {
  if (events.listeners.length === 0 && !isTracing()) {
    try {
      return op()
    } catch (error) {
      // A store that throws instead of rejecting still gives the caller a rejected promise.
      return Promise.reject(error)
    }
  }
  return observeStoreCall(events, operation, key, keys, op)
}

/** `callStore` when someone listens or traces: always reports a failure. */
export async function observeStoreCall<T>(
  events: GatewayEvents,
  operation: CacheOperation,
  key: string | undefined,
  keys: readonly string[] | undefined,
  op: () => Promise<T>,
): Promise<T> {
  try {
    if (!isTracing()) return await op()
    return await traceStoreCall({ operation, store: events.store, key, keys }, op)
  } catch (error) {
    if (error instanceof CellarError) events.fail(operation, key, error)
    throw error
  }
}
