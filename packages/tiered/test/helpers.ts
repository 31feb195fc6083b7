import { randomUUID } from 'node:crypto'
import type { Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { Redis } from 'ioredis'
import { TieredStore } from '../src/index.js'

/** One service instance: its own L1 and bus connections, the shared L2 prefix and channel. */
export interface Instance {
  readonly store: TieredStore
  readonly l1: Store<Uint8Array>
  readonly bus: RedisBus
  /** How many L2 reads this instance made. */
  readonly l2Reads: () => number
  /** How many messages this instance's bus has delivered on the channel so far. */
  readonly received: () => number
  /** Resolves once this instance's bus has delivered `count` more messages on the channel. */
  readonly delivered: (count?: number) => Promise<void>
  readonly close: () => Promise<void>
}

/**
 * Builds `count` instances sharing one Redis prefix and channel. With `sharedClient` each
 * instance's L2 and bus publish on one client (the bus then sends a write's message behind the
 * write, without waiting for its acknowledgement); otherwise each has its own connections.
 */
export async function instances(
  url: string,
  count: number,
  name = '',
  sharedClient = false,
): Promise<Instance[]> {
  const prefix = `tiered-${randomUUID()}:`
  const channel = `tiered-${randomUUID()}`
  const built: Instance[] = []
  for (let i = 0; i < count; i++) {
    const l1 = new MemoryStore({ pruneInterval: false })
    const client = sharedClient ? new Redis({ ...parse(url), connectionName: `${name}${i}` }) : null
    const l2 = new RedisStore({ connection: client ?? url, prefix })
    let reads = 0
    const counted = new Proxy(l2, {
      get(target, property) {
        const value = Reflect.get(target, property, target)
        if (typeof value !== 'function') return value
        if (property === 'get' || property === 'getMany') {
          return (...args: unknown[]) => {
            reads++
            return value.apply(target, args)
          }
        }
        return value.bind(target)
      },
    })
    const bus = new RedisBus({
      connection: client ?? { ...parse(url), connectionName: `${name}${i}-${randomUUID()}` },
    })
    let received = 0
    const waiters: Array<{ at: number; resolve: () => void }> = []
    await bus.subscribe(channel, () => {
      received++
      for (const waiter of waiters.splice(0)) {
        if (received >= waiter.at) waiter.resolve()
        else waiters.push(waiter)
      }
    })
    const store = new TieredStore({ l1, l2: counted, bus, channel })
    await store.ready()
    built.push({
      store,
      l1,
      bus,
      l2Reads: () => reads,
      received: () => received,
      delivered: (more = 1) => {
        const at = received + more
        return new Promise((resolve) => waiters.push({ at, resolve }))
      },
      close: async () => {
        await store.close()
        await bus.close()
        await client?.quit()
      },
    })
  }
  return built
}

function parse(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port || 6379) }
}
