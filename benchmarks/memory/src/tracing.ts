import { tracingChannel } from 'node:diagnostics_channel'

// Core's STORE_TRACING_CHANNEL, spelled out so this file also loads against a core without it.
const CHANNEL = 'cellar:store'

/**
 * Subscribes an (empty) APM-style subscriber to the gateway's store tracing channel, as a
 * tracer would; returns the unsubscribe. Only the row that measures it subscribes, and only
 * while it runs: a subscriber is process-wide and would slow every other gateway.
 */
export function subscribeTracing(): () => void {
  const channel = tracingChannel(CHANNEL)
  const handlers = {
    start() {},
    end() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
  }
  channel.subscribe(handlers)
  return () => channel.unsubscribe(handlers)
}
