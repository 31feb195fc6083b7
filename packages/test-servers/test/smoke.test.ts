import { Redis } from 'ioredis'
import memjs from 'memjs'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { uniquePrefix, useMemcached, useMysql, usePostgres, useRedis } from '../src/index.js'

// Each lookup prints a loud line and resolves undefined when its server is missing,
// or throws (failing this file) under CI=true / CELLAR_REQUIRE_SERVICES=1.
const redis = await useRedis()
const memcached = await useMemcached()
const postgres = await usePostgres()
const mysql = await useMysql()

afterAll(async () => {
  await postgres?.dispose()
  await mysql?.dispose()
})

describe.skipIf(!redis)('redis', () => {
  test('SET then GET through ioredis', async () => {
    const client = new Redis(redis!.url)
    try {
      const key = `${uniquePrefix('smoke')}greeting`
      await client.set(key, 'hello', 'PX', 60_000)
      expect(await client.get(key)).toBe('hello')
      await client.del(key)
    } finally {
      client.disconnect()
    }
  })

  test('is shared per process', async () => {
    expect(await useRedis()).toBe(redis)
  })
})

describe.skipIf(!memcached)('memcached', () => {
  test('set then get through memjs', async () => {
    const client = memjs.Client.create(memcached!.servers, { retries: 0, timeout: 2 })
    try {
      const key = `${uniquePrefix('smoke')}greeting`
      await client.set(key, 'hello', { expires: 60 })
      const { value } = await client.get(key)
      expect(value?.toString()).toBe('hello')
      await client.delete(key)
    } finally {
      client.close()
    }
  })

  test('is shared per process', async () => {
    expect(await useMemcached()).toBe(memcached)
  })
})

describe.skipIf(!postgres)('postgresql', () => {
  test('runs select 1 in the fresh database', async () => {
    const client = new pg.Client(postgres!.connection)
    await client.connect()
    try {
      const result = await client.query('select 1 as one, current_database() as db')
      expect(result.rows[0]).toEqual({ one: 1, db: postgres!.connection.database })
    } finally {
      await client.end()
    }
  })

  test('the url reaches the same database', async () => {
    const client = new pg.Client({ connectionString: postgres!.url })
    await client.connect()
    try {
      const result = await client.query('select current_database() as db')
      expect(result.rows[0].db).toBe(postgres!.connection.database)
    } finally {
      await client.end()
    }
  })

  test('each call gets its own database, and dispose drops it', async () => {
    const other = await usePostgres()
    expect(other!.connection.database).not.toBe(postgres!.connection.database)
    expect(other!.connection.database).toMatch(/^cellar_test_[0-9a-f]+$/)
    await other!.dispose()
    await other!.dispose()
    const client = new pg.Client(postgres!.connection)
    await client.connect()
    try {
      const result = await client.query(
        'select count(*)::int as n from pg_database where datname = $1',
        [other!.connection.database],
      )
      expect(result.rows[0].n).toBe(0)
    } finally {
      await client.end()
    }
  })
})

describe.skipIf(!mysql)('mariadb', () => {
  test('runs select 1 in the fresh database', async () => {
    const client = await createConnection(mysql!.connection)
    try {
      const [rows] = await client.query('select 1 as one, database() as db')
      expect(rows).toEqual([{ one: 1, db: mysql!.connection.database }])
    } finally {
      await client.end()
    }
  })

  test('the url reaches the same database', async () => {
    const client = await createConnection(mysql!.url)
    try {
      const [rows] = await client.query('select database() as db')
      expect(rows).toEqual([{ db: mysql!.connection.database }])
    } finally {
      await client.end()
    }
  })

  test('each call gets its own database, and dispose drops it', async () => {
    const other = await useMysql()
    expect(other!.connection.database).not.toBe(mysql!.connection.database)
    await other!.dispose()
    await other!.dispose()
    const client = await createConnection(mysql!.connection)
    try {
      const [rows] = await client.query(
        'select count(*) as n from information_schema.schemata where schema_name = ?',
        [other!.connection.database],
      )
      expect(rows).toEqual([{ n: 0 }])
    } finally {
      await client.end()
    }
  })
})
