// Forked by processes.test.ts: builds a facade over a shared store, waits for the parent's "go",
// then makes `callers` concurrent `remember(..., { lock })` calls for one key. Every loader start
// is appended to `log` (so the parent counts loads across processes); the values seen are sent
// back to the parent.
import { appendFileSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Store } from '@cellar/core'
import { KnexStore } from '@cellar/knex'
import { MemcachedStore } from '@cellar/memcached'
import { RedisStore } from '@cellar/redis'
import knex from 'knex'
import { createCache } from '../../src/index.js'

export interface RememberJob {
  readonly kind: 'redis' | 'memcached' | 'postgres'
  /** A Redis URL, a memcached server list, or a knex connection for PostgreSQL. */
  readonly connection: unknown
  readonly prefix: string
  readonly key: string
  readonly log: string
  readonly callers: number
  readonly loadMs: number
  readonly lockTtl: number
  /** How long the first loader (the leader) takes; the parent kills it in the meantime. */
  readonly leaderLoadMs?: number
}

const job = JSON.parse(process.argv[2] as string) as RememberJob
const db =
  job.kind === 'postgres' ? knex({ client: 'pg', connection: job.connection as object }) : undefined
const store: Store<Uint8Array> =
  job.kind === 'redis'
    ? new RedisStore({ connection: job.connection as string, prefix: job.prefix })
    : job.kind === 'memcached'
      ? new MemcachedStore({ servers: job.connection as string, prefix: job.prefix })
      : new KnexStore({
          knex: db!,
          prefix: job.prefix,
          autoCreateTable: true,
          pruneInterval: false,
        })
const cache = createCache({ default: 'main', stores: { main: store } })
// One round trip before "ready", so connecting (and table creation) is not part of the race.
await cache.get('warm-up')

const loader = async () => {
  const leader = readFileSync(job.log, 'utf8') === ''
  appendFileSync(job.log, `load ${process.pid}\n`)
  await sleep(leader && job.leaderLoadMs !== undefined ? job.leaderLoadMs : job.loadMs)
  return `value of ${process.pid}`
}

await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send!('ready')
})
const values = await Promise.all(
  Array.from({ length: job.callers }, () =>
    cache.remember(job.key, '10m', loader, {
      lock: { ttl: job.lockTtl, wait: 60_000, retryInterval: 20 },
    }),
  ),
)
process.send!({ values: [...new Set(values)] })
await cache.close()
await db?.destroy()
process.disconnect()
