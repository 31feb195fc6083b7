import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheGateway, type DriverEnv, type Duration } from '@cellar/core'
import { RateLimiter } from '@cellar/rate-limiter'
import { RedisStorageTable } from '@cellar/redis'
import { createAdaptorServer } from '@hono/node-server'
import { Redis } from 'ioredis'
import { createApp } from './app.js'
import { DEFAULT_CACHE_PREFIX, openCache } from './cache.js'
import { Catalog } from './catalog.js'
import type { AppContext } from './context.js'
import { databaseLabel, openDatabase } from './db/database.js'
import { ProductTable } from './db/products.js'
import { WriteNotices } from './notices.js'
import { RecentOrders } from './recent-orders.js'
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
   * TTL of cached products, lists, categories and pages.
   * @default '5m'
   */
  productTtl?: Duration
  /**
   * How long the report job runs, in milliseconds.
   * @default 2000
   */
  reportDurationMs?: number
  /**
   * The limit of `GET /search`, per client.
   * @default { limit: 5, window: '1m' }
   */
  searchLimit?: { limit: number; window: Duration }
}

/** A listening demo; `close()` stops the server, then closes the cache and the database. */
export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly context: AppContext
  close(): Promise<void>
}

/**
 * Opens the database, builds the cache from `cacheEnv` through `cacheFromEnv`, loads the table
 * cache of recent orders and starts listening; resolves once the port is bound.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const source = {
    file: options.databaseFile ?? ':memory:',
    ...(options.databaseUrl !== undefined && { url: options.databaseUrl }),
  }
  const db = await openDatabase(source)
  const cacheEnv = options.cacheEnv ?? {}
  let opened: ReturnType<typeof openCache>
  try {
    opened = openCache(cacheEnv, db)
  } catch (error) {
    await db.destroy()
    throw error
  }
  const { cache, storeName, bus } = opened
  const products = new ProductTable(db)
  const stats = new CacheStats(cache, storeName)
  // On CACHE_STORE=redis the cached orders live in Redis too: sorted sets, one table per process.
  const tableClient = storeName === 'redis' ? new Redis(opened.redisUrl) : undefined
  tableClient?.on('error', () => {})
  // A reconnect may be to a restarted, empty Redis: rebuild the orders' table from the database.
  let tableReady = 0
  tableClient?.on('ready', () => {
    if (tableReady++ > 0) orders.reload().catch((error: unknown) => console.error(error))
  })
  const orders = new RecentOrders(
    db,
    tableClient === undefined
      ? {}
      : {
          storage: {
            label: 'RedisStorageTable (Redis sorted sets)',
            create: (scorer) =>
              new RedisStorageTable(scorer, {
                connection: tableClient,
                name: `orders-${process.pid}-${randomUUID().slice(0, 8)}`,
                prefix: `${cacheEnv.CACHE_PREFIX || DEFAULT_CACHE_PREFIX}:table:`,
              }),
          },
        },
  )
  const notices =
    bus === undefined
      ? undefined
      : new WriteNotices(bus, `${cacheEnv.CACHE_PREFIX || DEFAULT_CACHE_PREFIX}:writes`)
  const release = async () => {
    await orders.close()
    tableClient?.disconnect()
    stats.close()
    await notices?.close()
    await opened.close()
    await db.destroy()
  }
  const ttl = options.productTtl ?? '5m'
  const search = options.searchLimit ?? { limit: 5, window: '1m' }
  // The repositories' own gateway on the facade's store: their reads are counted from their
  // events (below), not twice through the facade's; their writes from this gateway's events.
  const data = new CacheGateway(opened.store)
  data.on((event) => {
    if (event.type === 'write') stats.record(storeName, 'writes')
  })
  let context: AppContext
  try {
    context = {
      cache,
      catalog: new Catalog({
        db,
        cache,
        data,
        counters: opened.counters,
        table: products,
        ttl,
        onEvent: (event) => {
          if (event.type === 'hit') stats.record(storeName, 'hits')
          if (event.type === 'miss') stats.record(storeName, 'misses')
        },
        onBypass: (error) => {
          stats.record(storeName, 'errors')
          stats.down(error)
        },
      }),
      products,
      orders,
      // A fixed window works on every store (the token bucket needs a native step).
      limiter: new RateLimiter({
        store: opened.limiterStore,
        name: 'demo-search',
        limit: search.limit,
        window: search.window,
        // The demo keeps answering when the cache is down rather than refusing everyone.
        whenStoreFails: 'open',
      }),
      stats,
      labels: {
        store: opened.label,
        database: databaseLabel(source),
        counters: opened.countersLabel,
        instance: notices?.instance ?? 'single',
      },
      notices,
      reportDurationMs: options.reportDurationMs ?? 2000,
    }
    await orders.start()
    await notices?.start()
  } catch (error) {
    await release()
    throw error
  }
  const server = createAdaptorServer({ fetch: createApp(context).fetch }) as Server
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
