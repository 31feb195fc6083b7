import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheGateway, type Duration } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { createAdaptorServer } from '@hono/node-server'
import { createApp } from './app.js'
import type { AppContext } from './context.js'
import { openDatabase } from './db/database.js'
import { ProductTable } from './db/products.js'

export interface StartServerOptions {
  /**
   * Port to listen on; `0` picks a free one (tests).
   * @default 3000
   */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * SQLite file, created and seeded on start, or `':memory:'`.
   * @default ':memory:'
   */
  databaseFile?: string
  /**
   * TTL of cached products.
   * @default '5m'
   */
  productTtl?: Duration
  /**
   * How long the report job runs, in milliseconds.
   * @default 2000
   */
  reportDurationMs?: number
}

/** A listening demo; `close()` stops the server, then closes the cache and the database. */
export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly context: AppContext
  close(): Promise<void>
}

/**
 * Opens the database, builds the cache (an in-process `MemoryStore` behind a `CacheGateway`)
 * and starts listening; resolves once the port is bound.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const db = await openDatabase(options.databaseFile ?? ':memory:')
  const cache = new CacheGateway(new MemoryStore({ maxEntries: 10_000 }), { prefix: 'demo' })
  const context: AppContext = {
    cache,
    products: new ProductTable(db),
    productTtl: options.productTtl ?? '5m',
    reportDurationMs: options.reportDurationMs ?? 2000,
  }
  const server = createAdaptorServer({ fetch: createApp(context).fetch }) as Server
  const release = async () => {
    await cache.close()
    await db.destroy()
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await release()
    throw error
  }
  const { port, address } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    port,
    context,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }).then(release)
      return closing
    },
  }
}
