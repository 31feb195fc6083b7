import type { Store } from './store.js'

/** `up` once subscribed; `down` from the moment messages may have been missed until `up` again. */
export type BusStatus = 'up' | 'down'

/** Receives one message published on a channel this bus subscribed to. */
export type BusListener = (message: string) => void

/**
 * A publish/subscribe bus between the instances of one service — what a two-tier store uses to
 * tell the others which keys changed. A store offers one natively (Redis pub/sub: `RedisBus`);
 * layers take it as a `Bus` and never import the store. Delivery is at most once while `up`;
 * a listener of `onStatus` learns when it is not.
 */
export interface Bus {
  /** True while the subscribing connection is up and subscribed. */
  readonly connected: boolean
  /** Publishes `message` on `channel`; resolves once the server has accepted it. */
  publish(channel: string, message: string): Promise<void>
  /** Calls `listener` for each message on `channel`; resolves, once subscribed, a function that unsubscribes. */
  subscribe(channel: string, listener: BusListener): Promise<() => Promise<void>>
  /**
   * Optional. True when, at this moment, a message this bus publishes right after a `set`,
   * `delete` or `deleteMany` call on `store` (made in the same tick, not awaited) reaches
   * subscribers only once that write has taken effect: the bus publishes on the store's own
   * ordered connection. A two-tier store then sends the write and its message together instead
   * of waiting for the write's acknowledgement. Absent or false: it waits.
   */
  orderedWith?(store: Store<unknown>): boolean
  /** Calls `listener` on every change of status; returns a function that removes it. */
  onStatus(listener: (status: BusStatus) => void): () => void
  /** Closes the connections the bus created (never a client it was given). */
  close(): Promise<void>
}
