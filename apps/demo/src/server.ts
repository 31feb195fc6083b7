import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DriverEnv, Duration } from '@cellar/core'
import { createAdaptorServer } from '@hono/node-server'
import { createApp } from './app.js'
import { openCache } from './cache.js'
import { Catalog } from './catalog.js'
import type { AppContext } from './context.js'
import { databaseLabel, openDatabase } from './db/database.js'
import { ProductTable } from './db/products.js'
import { CacheStats } from './stats.js'

export interface StartServerOptions {
  /**
   * Port to listen on; `0` picks a free one (tests).
   * @default 3000
   */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * SQLite file, created and seeded on start, or `':memory:'`; unused with `databaseUrl`.
   * @default ':memory:'
   */
  databaseFile?: string
  /** `postgres://…`: the products live in PostgreSQL (created and seeded on start). */
  databaseUrl?: string
  /**
   * The variables `cacheFromEnv` reads (`CACHE_STORE`, `REDIS_URL`, `CACHE_PREFIX`, …).
   * @default {} (an in-process memory store)
   */
  cacheEnv?: DriverEnv
  /**
   * TTL of cached products and lists.
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
 * Opens the database, builds the cache from `cacheEnv` through `cacheFromEnv` and starts
 * listening; resolves once the port is bound.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const source = {
    file: options.databaseFile ?? ':memory:',
    ...(options.databaseUrl !== undefined && { url: options.databaseUrl }),
  }
  const db = await openDatabase(source)
  let opened: ReturnType<typeof openCache>
  try {
    opened = openCache(options.cacheEnv ?? {}, db)
  } catch (error) {
    await db.destroy()
    throw error
  }
  const { cache, storeName, label } = opened
  const products = new ProductTable(db)
  const stats = new CacheStats(cache, storeName)
  const context: AppContext = {
    cache,
    catalog: new Catalog(cache, products, options.productTtl ?? '5m'),
    products,
    stats,
    labels: { store: label, database: databaseLabel(source) },
    reportDurationMs: options.reportDurationMs ?? 2000,
  }
  const server = createAdaptorServer({ fetch: createApp(context).fetch }) as Server
  const release = async () => {
    stats.close()
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
        // SSE streams never go idle: end every connection so close() does not wait on them.
        server.closeAllConnections()
      }).then(release)
      return closing
    },
  }
}
