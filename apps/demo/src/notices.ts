import { randomUUID } from 'node:crypto'
import type { Bus } from '@cellar/core'

/** A product write announced by another instance. */
export interface WriteNotice {
  readonly from: string
  readonly productId: number
  readonly at: string
}

/**
 * Product writes announced between the instances of the demo on the cache's bus, published
 * after the write's invalidations on the same connection. Redis delivers one connection's
 * publications in order, so an instance that has received the notice has also received (and
 * applied to its L1) every invalidation the write sent before it: from then on its reads are
 * fresh. The dashboard and the two-instance test read `received`.
 */
export class WriteNotices {
  /** This instance's name in notices. */
  readonly instance = randomUUID().slice(0, 8)
  readonly #bus: Bus
  readonly #channel: string
  readonly #received: WriteNotice[] = []
  #count = 0
  #unsubscribe: Promise<() => Promise<void>> | undefined

  constructor(bus: Bus, channel: string) {
    this.#bus = bus
    this.#channel = channel
  }

  /** Subscribes; resolves once the subscription is in place. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#bus.subscribe(this.#channel, (raw) => this.#receive(raw))
    await this.#unsubscribe
  }

  /** Announces a write of `productId` to the other instances. */
  publish(productId: number): Promise<void> {
    return this.#bus.publish(this.#channel, JSON.stringify({ from: this.instance, productId }))
  }

  /** The notices received from other instances, oldest first (the last 50). */
  get received(): readonly WriteNotice[] {
    return this.#received
  }

  /** How many notices arrived from other instances since start. */
  get count(): number {
    return this.#count
  }

  /** Stops listening. */
  async close(): Promise<void> {
    const unsubscribe = await this.#unsubscribe?.catch(() => undefined)
    await unsubscribe?.().catch(() => undefined)
  }

  #receive(raw: string): void {
    let message: { from?: unknown; productId?: unknown }
    try {
      message = JSON.parse(raw)
    } catch {
      return
    }
    if (message.from === this.instance || typeof message.from !== 'string') return
    this.#count++
    this.#received.push({
      from: message.from,
      productId: Number(message.productId),
      at: new Date().toISOString(),
    })
    if (this.#received.length > 50) this.#received.shift()
  }
}
