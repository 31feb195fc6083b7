import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore } from '@cellar/file'
import { KnexStore } from '@cellar/knex'
import { MemcachedStore } from '@cellar/memcached'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { useMemcached, usePostgres, useRedis } from '@cellar/test-servers'
import knex from 'knex'
import { afterAll } from 'vitest'
import { FakeStore } from '../src/index.js'
import { describeFacade } from './suite.js'

const redis = await useRedis()
const memcached = await useMemcached()
const pg = await usePostgres()
const directory = mkdtempSync(join(tmpdir(), 'cellar-cache-'))
const sqlite = knex({
  client: 'better-sqlite3',
  connection: { filename: join(directory, 'db.sqlite') },
  useNullAsDefault: true,
})
const postgres = pg && knex({ client: 'pg', connection: pg.connection })
afterAll(async () => {
  await sqlite.destroy()
  await postgres?.destroy()
  await pg?.dispose()
  rmSync(directory, { recursive: true, force: true })
})

describeFacade({ name: 'the fake store', make: () => new FakeStore() })
describeFacade({ name: 'memory (bytes)', make: () => new MemoryStore() })
describeFacade({ name: 'memory (raw)', make: () => new MemoryStore({ raw: true }) })
describeFacade({
  name: 'file',
  make: () => new FileStore({ directory: join(directory, randomUUID()) }),
})
describeFacade({
  name: 'SQLite',
  make: () => new KnexStore({ knex: sqlite, autoCreateTable: true }),
})
if (postgres) {
  describeFacade({
    name: 'PostgreSQL',
    make: () => new KnexStore({ knex: postgres, autoCreateTable: true }),
  })
}
if (redis) {
  describeFacade({
    name: 'Redis',
    make: () => new RedisStore({ connection: redis.url, prefix: `cache-${randomUUID()}:` }),
  })
}
if (memcached) {
  describeFacade({
    name: 'memcached',
    precision: 2000,
    make: () =>
      new MemcachedStore({ servers: memcached.servers, prefix: `c${randomUUID().slice(0, 8)}` }),
  })
}
