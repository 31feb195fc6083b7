import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@cellar/core'
import { RateLimiter, type RateLimiterOptions } from '../src/index.js'

/** Where a limiter test keeps its state: a store kind and how to reach its server. */
export type Target =
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'memcached'; readonly servers: string }
  | {
      readonly kind: 'knex'
      readonly client: 'pg' | 'mysql2' | 'better-sqlite3'
      readonly connection: unknown
    }
  | { readonly kind: 'file'; readonly directory: string }

// Stores load from source: fork children run under tsx, without vitest's aliases or a build.
// biome-ignore lint/suspicious/noExplicitAny: the module's types come from each store's package
type StoreModule = Record<string, any>
const source = (name: string): Promise<StoreModule> =>
  import(new URL(`../../${name}/src/index.ts`, import.meta.url).href)

/** A store over `target` under `prefix`, and how to release it (the knex pool included). */
export async function openStore(
  target: Target,
  prefix: string,
): Promise<{ store: Store<unknown>; close(): Promise<void> }> {
  if (target.kind === 'redis') {
    const { RedisStore } = await source('redis')
    const store: Store<unknown> = new RedisStore({ connection: target.url, prefix })
    return { store, close: () => store.close() }
  }
  if (target.kind === 'memcached') {
    const { MemcachedStore } = await source('memcached')
    const store: Store<unknown> = new MemcachedStore({ servers: target.servers, prefix })
    return { store, close: () => store.close() }
  }
  if (target.kind === 'file') {
    const { FileStore } = await source('file')
    const store: Store<unknown> = new FileStore({
      directory: target.directory,
      prefix,
      pruneInterval: false,
    })
    return { store, close: () => store.close() }
  }
  const { default: knexFactory } = await import('knex')
  const knex = knexFactory({
    client: target.client,
    connection: target.connection as never,
    useNullAsDefault: true,
    pool: target.client === 'better-sqlite3' ? { min: 1, max: 1 } : { min: 0, max: 8 },
  })
  const { KnexStore } = await source('knex')
  const store: Store<unknown> = new KnexStore({ knex, prefix, pruneInterval: false })
  return {
    store,
    close: async () => {
      await store.close()
      await knex.destroy()
    },
  }
}

/** The limiter options of one conformance spec over `store`. */
export function limiterOptions(
  store: Store<unknown>,
  spec: {
    algorithm: RateLimiterOptions['algorithm']
    limit: number
    windowMs: number
    blockMs: number
  },
): RateLimiterOptions {
  return {
    store,
    algorithm: spec.algorithm,
    limit: spec.limit,
    window: spec.windowMs,
    blockDuration: spec.blockMs,
    // memcached may evict; the suite accepts it, an application decides for itself.
    accept: ['evicting'],
    blockCache: false,
  }
}

/** A fresh directory for file-store tests. */
export function fileDirectory(name: string): string {
  return join(tmpdir(), `cellar-rate-limiter-${name}-${process.pid}-${Date.now()}`)
}

export { RateLimiter }
