import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeLimiter } from '@cellar/conformance'
import { uniquePrefix, useMemcached, useMysql, usePostgres, useRedis } from '@cellar/test-servers'
import { afterAll, describe, test } from 'vitest'
import { fileDirectory, limiterOptions, openStore, RateLimiter, type Target } from './targets.js'

const redis = await useRedis()
const memcached = await useMemcached()
const pg = await usePostgres()
const mysql = await useMysql()
const directory = fileDirectory('stores')
mkdirSync(directory, { recursive: true })
afterAll(async () => {
  await pg?.dispose()
  await mysql?.dispose()
  rmSync(directory, { recursive: true, force: true })
})

const child = fileURLToPath(new URL('./limiter-child.ts', import.meta.url))
const targets: Array<{ name: string; target: Target | undefined; processes: boolean }> = [
  {
    name: 'Redis (native Lua)',
    target: redis && { kind: 'redis', url: redis.url },
    processes: true,
  },
  {
    name: 'memcached (counter fallback)',
    target: memcached && { kind: 'memcached', servers: memcached.servers },
    processes: true,
  },
  {
    name: 'PostgreSQL (counter fallback)',
    target: pg && { kind: 'knex', client: 'pg', connection: pg.connection },
    processes: true,
  },
  {
    name: 'MariaDB (counter fallback)',
    target: mysql && { kind: 'knex', client: 'mysql2', connection: mysql.connection },
    processes: false,
  },
  {
    name: 'SQLite (counter fallback)',
    target: {
      kind: 'knex',
      client: 'better-sqlite3',
      connection: { filename: `${directory}/limits.db` },
    },
    processes: false,
  },
  { name: 'file (counter fallback)', target: { kind: 'file', directory }, processes: true },
]

for (const { name, target, processes } of targets) {
  describe.skipIf(target === undefined)(name, () => {
    if (target === undefined) return
    const native = target.kind === 'redis'
    describeLimiter(
      { describe, test },
      async () => {
        const prefix = uniquePrefix('limiter')
        const opened = await openStore(target, prefix)
        const { store } = opened
        const listed = store.namespace('rate-limiter')
        const caps = store.capabilities
        return {
          limiter: (spec) => new RateLimiter(limiterOptions(store, spec)),
          ...(caps.listsKeys &&
            caps.readsTtl &&
            listed.keys !== undefined && {
              expiries: async () => {
                const ttls = []
                for await (const key of listed.keys?.() ?? []) ttls.push(await listed.ttl(key))
                return ttls
              },
            }),
          maxKeyLength: caps.maxKeyLength,
          close: opened.close,
        }
      },
      {
        name: 'rate limiter',
        algorithms: native
          ? ['fixed-window', 'sliding-window', 'token-bucket']
          : ['fixed-window', 'sliding-window'],
        ...(processes && {
          processes: {
            module: child,
            execArgv: ['--import', 'tsx'],
            env: {
              CELLAR_LIMITER_TARGET: JSON.stringify(target),
              CELLAR_LIMITER_PREFIX: uniquePrefix('limiter-fork'),
            },
          },
        }),
      },
    )
  })
}
