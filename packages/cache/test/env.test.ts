import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullDriver } from '@cellar/core'
import { fileDriver } from '@cellar/file'
import { knexDriver } from '@cellar/knex'
import { memcachedDriver } from '@cellar/memcached'
import { memoryDriver } from '@cellar/memory'
import { redisDriver } from '@cellar/redis'
import { useMemcached, usePostgres, useRedis } from '@cellar/test-servers'
import knex from 'knex'
import { afterAll, describe, expect, test } from 'vitest'
import { cacheFromEnv } from '../src/index.js'

const redis = await useRedis()
const memcached = await useMemcached()
const pg = await usePostgres()
const drivers = [memoryDriver, fileDriver, redisDriver, memcachedDriver, knexDriver, nullDriver]
const directory = mkdtempSync(join(tmpdir(), 'cellar-env-'))
afterAll(async () => {
  await pg?.dispose()
  rmSync(directory, { recursive: true, force: true })
})

async function roundTrip(env: Record<string, string>, extra: { knex?: unknown } = {}) {
  await using cache = cacheFromEnv({ drivers, env, ...extra })
  await cache.put('k', { ok: true })
  const value = await cache.get('k')
  await cache.flush()
  return value
}

describe('cacheFromEnv', () => {
  test('defaults to memory; CACHE_CONNECTION and CACHE_DRIVER are aliases of CACHE_STORE', async () => {
    expect(await roundTrip({})).toEqual({ ok: true })
    expect(
      await roundTrip({ CACHE_CONNECTION: 'file', CACHE_FILE_PATH: join(directory, 'a') }),
    ).toEqual({
      ok: true,
    })
    expect(await roundTrip({ CACHE_DRIVER: 'null' })).toBeUndefined()
  })

  test.skipIf(!redis)('CACHE_STORE=redis with REDIS_URL', async () => {
    expect(
      await roundTrip({ CACHE_STORE: 'redis', REDIS_URL: redis!.url, CACHE_PREFIX: 'envtest' }),
    ).toEqual({
      ok: true,
    })
  })

  test.skipIf(!memcached)('CACHE_STORE=memcached with MEMCACHED_SERVERS', async () => {
    expect(
      await roundTrip({ CACHE_STORE: 'memcached', MEMCACHED_SERVERS: memcached!.servers }),
    ).toEqual({
      ok: true,
    })
  })

  test.skipIf(!pg)(
    "CACHE_STORE=database uses the app's own database: DATABASE_URL or its knex",
    async () => {
      expect(await roundTrip({ CACHE_STORE: 'database', DATABASE_URL: pg!.url })).toEqual({
        ok: true,
      })
      const app = knex({ client: 'pg', connection: pg!.connection })
      try {
        expect(await roundTrip({ CACHE_STORE: 'database' }, { knex: app })).toEqual({ ok: true })
        // The app's knex is still usable: the cache never destroys a knex it was given.
        expect((await app.raw('select 1 as one')).rows[0].one).toBe(1)
      } finally {
        await app.destroy()
      }
    },
  )

  test('CACHE_TTL is seconds, as in Laravel', async () => {
    await using cache = cacheFromEnv({ drivers, env: { CACHE_TTL: '1' } })
    await cache.put('k', 'v')
    expect(await cache.store().gateway.ttl('k')).toBeLessThanOrEqual(1000)
  })

  test('a driver named but not passed in says which package to install', () => {
    expect(() => cacheFromEnv({ drivers: [memoryDriver], env: { CACHE_STORE: 'redis' } })).toThrow(
      expect.objectContaining({
        code: 'E_UNKNOWN_STORE',
        message: expect.stringContaining('install @cellar/redis and pass its redisDriver'),
      }),
    )
    expect(() => cacheFromEnv({ drivers, env: { CACHE_STORE: 'mongo' } })).toThrow(
      expect.objectContaining({ code: 'E_UNKNOWN_STORE' }),
    )
  })

  test('malformed values fail at start, naming the variable', () => {
    const fails = (env: Record<string, string>, variable: string) =>
      expect(() => cacheFromEnv({ drivers, env })).toThrow(
        expect.objectContaining({ message: expect.stringContaining(variable) }),
      )
    fails({ CACHE_TTL: 'abc' }, 'CACHE_TTL')
    fails({ CACHE_TTL: '-5' }, 'CACHE_TTL')
    fails({ CACHE_STORE: 'redis', REDIS_URL: 'not a url' }, 'REDIS_URL')
    fails({ CACHE_STORE: 'redis', REDIS_URL: 'http://example.com' }, 'REDIS_URL')
    fails({ CACHE_STORE: 'memcached', MEMCACHED_SERVERS: 'nohost' }, 'MEMCACHED_SERVERS')
    fails({ CACHE_STORE: 'database' }, 'DATABASE_URL')
    fails({ CACHE_STORE: 'database', DATABASE_URL: 'oracle://x/y' }, 'DATABASE_URL')
    fails({ CACHE_STORE: 'memory', CACHE_MEMORY_MAX_ENTRIES: '0' }, 'CACHE_MEMORY_MAX_ENTRIES')
  })
})
