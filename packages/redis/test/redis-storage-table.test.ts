import { describeStorageTable, type StorageTableRow, storageTableScorer } from '@cellar/conformance'
import { isCellarError, type StorageRecordsSpec } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import calculateSlot from 'cluster-key-slot'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { RedisStorageTable, type RowCodec } from '../src/index.js'
import { LiveVersions } from '../src/storage-table-versions.js'
import {
  canStartRedisCluster,
  type RedisClusterServer,
  startRedisCluster,
} from './helpers/cluster.js'

type Row = StorageTableRow
const redis = await useRedis()
const everything: StorageRecordsSpec<Row> = {
  indexName: 'a',
  scoreIntervals: [{ ge: Number.NEGATIVE_INFINITY, lt: Number.POSITIVE_INFINITY }],
}
const ids = (rows: readonly Row[]) => rows.map((r) => r.id).sort()

async function settle(check: () => Promise<boolean>): Promise<boolean> {
  // Removal of superseded versions runs after the last read of their generation; give it turns.
  for (let i = 0; i < 200; i++) {
    if (await check()) return true
    await new Promise((resolve) => setImmediate(resolve))
  }
  return check()
}

describe.skipIf(!redis)('RedisStorageTable (standalone)', () => {
  const client = redis ? new Redis(redis.url) : (undefined as unknown as Redis)
  const tables: RedisStorageTable<Row>[] = []
  const open = (options: { maxRowBytes?: number } = {}) => {
    const table = new RedisStorageTable(storageTableScorer, {
      connection: client,
      name: uniquePrefix('table').replace(/[{}]/g, ''),
      ...options,
    })
    tables.push(table)
    return table
  }
  afterAll(async () => {
    await Promise.all(tables.map((table) => table.clear()))
    await client.quit()
  })

  describeStorageTable({ describe, test }, () => open())

  test('every key carries the table name as its Cluster hash tag', () => {
    const table = open()
    expect(table.keys).toHaveLength(3)
    for (const key of table.keys) expect(key).toContain(`{${table.name}}`)
    expect(new Set(table.keys.map((key) => calculateSlot(key))).size).toBe(1)
  })

  test('a read pinned before a merge resolves the old set, whole; old versions go afterwards', async () => {
    const table = open()
    await table.clear()
    for (let i = 0; i < 50; i++) await table.putRecord({ id: `old${i}`, a: i, b: 1 })
    await table.scratchDiscardRecords(everything)
    for (let i = 0; i < 50; i++) await table.scratchPutRecord({ id: `new${i}`, a: i, b: 2 })
    const before = table.getRecords(everything)
    await table.scratchMerge()
    const after = table.getRecords(everything)
    expect(ids(await before)).toEqual(Array.from({ length: 50 }, (_, i) => `old${i}`).sort())
    expect(ids(await after)).toEqual(Array.from({ length: 50 }, (_, i) => `new${i}`).sort())
    const [rows, index] = table.keys as [string, string, string]
    expect(await settle(async () => (await client.zcard(index)) === 50)).toBe(true)
    expect(await client.hlen(rows)).toBe(50)
  })

  test('clear() waits for a running removal of old versions: no command of it is left in flight', async () => {
    const table = open()
    await table.clear()
    for (let i = 0; i < 600; i++) await table.putRecord({ id: `old${i}`, a: i, b: 1 })
    await table.scratchDiscardRecords(everything)
    for (let i = 0; i < 600; i++) await table.scratchPutRecord({ id: `new${i}`, a: i, b: 2 })
    await table.scratchMerge()
    await table.clear()
    // Replies still awaited by this connection; a caller may quit it once clear() resolves.
    expect(client.commandQueue.length).toBe(0)
    expect(await client.exists(...table.keys)).toBe(0)
  })

  test('a record both stored and staged is indexed once per version and read once', async () => {
    const table = open()
    await table.clear()
    await table.putRecord({ id: 'r', a: 4, b: 4 })
    await table.scratchPutRecord({ id: 'r', a: 4, b: 9 })
    const [, indexA, indexB] = table.keys as [string, string, string]
    // Staged puts travel in batches; a discard (here of nothing) sends what is queued first.
    expect(await table.scratchDiscardRecords({ indexName: 'a', scoreIntervals: [] })).toBe(0)
    expect(await client.zcard(indexA)).toBe(2)
    expect((await table.getRecords(everything)).map((r) => r.b)).toEqual([4])
    await table.scratchMerge()
    expect((await table.getRecords(everything)).map((r) => r.b)).toEqual([9])
    const onB = await table.getRecords({ indexName: 'b', scoreIntervals: [{ ge: 0, lt: 100 }] })
    expect(onB.map((r) => r.b)).toEqual([9])
    expect(await settle(async () => (await client.zcard(indexA)) === 1)).toBe(true)
    expect(await client.zcard(indexB)).toBe(1)
    // Discarding the staged version leaves the stored one in place.
    await table.scratchPutRecord({ id: 'r', a: 5, b: 5 })
    expect(
      await table.scratchDiscardRecords({ indexName: 'a', scoreIntervals: [{ ge: 5, lt: 6 }] }),
    ).toBe(1)
    await table.scratchMerge()
    expect((await table.getRecords(everything)).map((r) => [r.a, r.b])).toEqual([[4, 9]])
  })

  test('a range read is one round trip with the rows in the index; a big key read HMGETs in chunks', async () => {
    const table = open()
    await table.clear()
    for (let i = 0; i < 1_200; i++) await table.scratchPutRecord({ id: `k${i}`, a: i, b: 0 })
    await table.scratchMerge()
    const ranges = vi.spyOn(client, 'zrangebyscoreBuffer')
    const pipelines = vi.spyOn(client, 'pipeline')
    const hmgets = vi.spyOn(client, 'hmgetBuffer')
    const scripts = vi.spyOn(client, 'evalsha')
    try {
      // One interval: one plain ZRANGEBYSCORE, whose members carry the rows.
      const one = await table.getRecords({ indexName: 'a', scoreIntervals: [{ ge: 5, lt: 8 }] })
      expect(ids(one)).toEqual(['k5', 'k6', 'k7'])
      expect(ranges).toHaveBeenCalledTimes(1)
      expect(pipelines).not.toHaveBeenCalled()
      // Several intervals: their ZRANGEBYSCOREs go in one pipeline (one round trip).
      const found = await table.getRecords({
        indexName: 'a',
        scoreIntervals: [
          { ge: 0, lt: 3 },
          { ge: 10, lt: 12 },
          { ge: 15, lt: 16 },
        ],
      })
      expect(ids(found)).toEqual(['k0', 'k1', 'k10', 'k11', 'k15', 'k2'])
      expect(pipelines).toHaveBeenCalledTimes(1)
      expect(await table.getRecords(everything)).toHaveLength(1_200)
      expect(pipelines).toHaveBeenCalledTimes(1)
      expect(hmgets).not.toHaveBeenCalled()
      // Over 1,000 keys: the rows come in chunked HMGETs sent as one pipeline.
      const keys = Array.from({ length: 1_100 }, (_, i) => `k${i}`)
      const byKey = await table.getRecords({ ...everything, primaryKeys: keys })
      expect(byKey.map((r) => r.id)).toEqual(keys)
      // (The HMGETs are the pipeline's, not the client's.)
      expect(pipelines).toHaveBeenCalledTimes(2)
      expect(hmgets).not.toHaveBeenCalled()
      expect(scripts).not.toHaveBeenCalled()
    } finally {
      ranges.mockRestore()
      pipelines.mockRestore()
      hmgets.mockRestore()
      scripts.mockRestore()
    }
  })

  test('rewriting a version leaves one index member per version, with its current row', async () => {
    const table = open()
    await table.clear()
    // Keys with the member's separator, a digit prefix and multi-byte characters.
    const odd = ['12:3', 'é:{x}\u0000', '7']
    const [, indexA, indexB] = table.keys as [string, string, string]
    for (const id of odd) {
      await table.putRecord({ id, a: 1, b: 1 })
      await table.putRecord({ id, a: 1, b: 2 })
    }
    expect(await client.zcard(indexA)).toBe(3)
    expect(await client.zcard(indexB)).toBe(3)
    expect((await table.getRecords(everything)).map((r) => r.b)).toEqual([2, 2, 2])
    // Staged twice in one scratch space: the second staged row replaces the first.
    for (const id of odd) {
      await table.scratchPutRecord({ id, a: 2, b: 3 })
      await table.scratchPutRecord({ id, a: 2, b: 4 })
    }
    await table.scratchMerge()
    const found = await table.getRecords(everything)
    expect(ids(found)).toEqual([...odd].sort())
    expect(found.map((r) => [r.a, r.b])).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
    ])
    expect(await settle(async () => (await client.zcard(indexA)) === 3)).toBe(true)
    expect(await client.zcard(indexB)).toBe(3)
    expect(await table.deleteRecords(everything)).toBe(3)
    for (const key of table.keys) expect(await client.exists(key)).toBe(0)
  })

  test('range reads keep only visible versions past generation 36 (base-36 member prefixes)', async () => {
    const table = open()
    await table.clear()
    for (let round = 0; round < 40; round++) {
      await table.scratchPutRecord({ id: `r${round % 3}`, a: round % 3, b: round })
      await table.scratchPutRecord({ id: 'x', a: 7, b: round })
      await table.scratchMerge()
      // A staged version of the next generation sits in the sorted sets too; reads skip it.
      await table.scratchPutRecord({ id: 'x', a: 7, b: -1 })
      await table.scratchDiscardRecords({ indexName: 'a', scoreIntervals: [] })
      const found = await table.getRecords(everything)
      expect(found.find((r) => r.id === 'x')?.b).toBe(round)
      expect(found).toHaveLength(Math.min(round + 1, 3) + 1)
    }
    // The generations went through one-letter prefixes (a–z) to two-character ones.
    const [rows] = table.keys as [string]
    expect((await client.hkeys(rows)).every((field) => /^[0-9a-z]{2}:/.test(field))).toBe(true)
  })

  test('a codec without decodeFrom reads rows too; its failures are E_SERIALIZATION', async () => {
    const json: RowCodec<Row> = {
      name: 'json',
      encode: (record) => Buffer.from(JSON.stringify(record)),
      decode: (bytes) => {
        const record = JSON.parse(Buffer.from(bytes).toString()) as Row
        if (record.id === 'poison') throw new Error('refused')
        return record
      },
    }
    const table = new RedisStorageTable(storageTableScorer, {
      connection: client,
      name: uniquePrefix('json-table').replace(/[{}]/g, ''),
      codec: json,
    })
    tables.push(table)
    await table.clear()
    await table.putRecord({ id: 'k1', a: 1, b: 1 })
    await table.putRecord({ id: 'k2', a: 2, b: 2 })
    expect(ids(await table.getRecords(everything))).toEqual(['k1', 'k2'])
    expect(ids(await table.getRecords({ ...everything, primaryKeys: ['k2'] }))).toEqual(['k2'])
    await table.putRecord({ id: 'poison', a: 3, b: 3 })
    await expect(table.getRecords(everything)).rejects.toMatchObject({
      code: 'E_SERIALIZATION',
      key: 'poison',
    })
  })

  test('a read by key is one HMGET; a row gone since is skipped, the rest kept in order', async () => {
    const table = open()
    await table.clear()
    for (const id of ['k1', 'k2', 'k3', 'k4']) await table.putRecord({ id, a: 1, b: 2 })
    const [rows] = table.keys as [string]
    const fields = await client.hkeys(rows)
    // Remove k2's row behind the table's back: the table still lists its version.
    await client.hdel(rows, fields.find((f) => f.endsWith(':k2')) as string)
    const scripts = vi.spyOn(client, 'callBuffer')
    const hmgets = vi.spyOn(client, 'hmgetBuffer')
    try {
      const found = await table.getRecords({
        indexName: 'a',
        scoreIntervals: [{ ge: 1, lt: 2 }],
        primaryKeys: ['k4', 'k2', 'k1', 'missing'],
      })
      expect(found.map((r) => r.id)).toEqual(['k4', 'k1'])
      expect(hmgets).toHaveBeenCalledTimes(1)
      expect(scripts).not.toHaveBeenCalled()
    } finally {
      scripts.mockRestore()
      hmgets.mockRestore()
    }
  })

  test('a corrupt stored row reads as E_SERIALIZATION naming its key', async () => {
    const table = open()
    await table.clear()
    await table.putRecord({ id: 'bad', a: 1, b: 1 })
    const [rows, ...indexes] = table.keys as [string, string, string]
    const [field] = await client.hkeys(rows)
    const bad = Buffer.from([1, 2, 3])
    await client.hset(rows, field as string, bad)
    // Each index member carries a copy of the row: corrupt those too.
    for (const index of indexes) {
      const [member, score] = await client.zrangeBuffer(index, '0', '0', 'WITHSCORES')
      await client.zrem(index, member as Buffer)
      const head = `${Buffer.byteLength(field as string)}:${field}`
      await client.zadd(index, Number(score), Buffer.concat([Buffer.from(head), bad]))
    }
    const failure = await table.getRecord('bad').catch((error: unknown) => error)
    expect(isCellarError(failure, 'E_SERIALIZATION')).toBe(true)
    expect((failure as { key?: string }).key).toBe('bad')
    await expect(table.getRecords(everything)).rejects.toMatchObject({
      code: 'E_SERIALIZATION',
      key: 'bad',
    })
    await expect(table.getRecords({ ...everything, primaryKeys: ['bad'] })).rejects.toMatchObject({
      code: 'E_SERIALIZATION',
      key: 'bad',
    })
  })

  test('oversized rows, bad scores and unencodable rows are refused before anything is written', async () => {
    const table = open({ maxRowBytes: 64 })
    await table.clear()
    const big = { id: 'big', a: 1, b: 1, note: 'x'.repeat(100) } as Row
    await expect(table.putRecord(big)).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
      key: 'big',
    })
    await expect(table.scratchPutRecord(big)).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' })
    await expect(table.putRecord({ id: 'nan', a: Number.NaN, b: 1 })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
      key: 'nan',
    })
    const fn = { id: 'fn', a: 1, b: 1, f: () => 1 } as Row
    await expect(table.putRecord(fn)).rejects.toMatchObject({ code: 'E_SERIALIZATION', key: 'fn' })
    await table.scratchMerge()
    for (const key of table.keys) expect(await client.exists(key)).toBe(0)
  })

  test('the constructor refuses what would break the key layout', () => {
    const make = (name: string, prefix?: string) => () =>
      new RedisStorageTable(storageTableScorer, {
        connection: client,
        name,
        ...(prefix === undefined ? {} : { prefix }),
      })
    expect(make('')).toThrow(/non-empty name/)
    expect(make('a{b}')).toThrow(/hash tag/)
    expect(make('ok', 'p{')).toThrow(/hash tag/)
    expect(
      () =>
        new RedisStorageTable(storageTableScorer, {
          connection: {} as Redis,
          name: 'x',
        }),
    ).toThrow(/ioredis/)
  })

  test('an unknown index is a typed error', async () => {
    const table = open()
    await expect(
      table.getRecords({ indexName: 'nope', scoreIntervals: [{ ge: 0, lt: 1 }] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
  })
})

test('live versions: dense integer keys, far and non-integer keys, moves, deletes and clear', () => {
  const live = new LiveVersions()
  const expected = new Map<string, number>()
  const put = (key: string, generation: number) => {
    live.set(key, generation)
    expected.set(key, generation)
  }
  const drop = (key: string) => {
    live.delete(key)
    expected.delete(key)
  }
  // A far key first (it goes to the map), then enough near keys that it would fit the array.
  put('70000', 3)
  put('70002', 1)
  // Stays in the map while the array grows past it: a lookup must fall back to the map.
  put('60000', 2)
  for (let id = 0; id < 20_000; id++) put(String(id), 1 + (id % 5))
  // Both now fit the array: one moves there, then is dropped (no stale map entry may remain).
  put('70000', 4)
  put('70002', 6)
  drop('70002')
  for (const key of ['007', '-1', '1.5', 'abc', '', '123456789012345', String(2 ** 26 + 1)]) {
    put(key, 9)
  }
  for (let id = 0; id < 20_000; id += 3) drop(String(id))
  drop('abc')
  put('3', 7)
  const check = () => {
    for (const [key, generation] of expected) expect(live.get(key)).toBe(generation)
    for (const key of ['0', '6', '19999', '20001', 'abc', '7', '07', '70001', '70002'].filter(
      (k) => !expected.has(k),
    )) {
      expect(live.get(key)).toBeUndefined()
    }
  }
  check()
  live.clear()
  expected.clear()
  check()
  expect(live.get('5')).toBeUndefined()
  put('5', 2)
  check()
})

const clusterAvailable = canStartRedisCluster()

describe.skipIf(!clusterAvailable)('RedisStorageTable on a 3-master Redis Cluster', () => {
  let server: RedisClusterServer
  let cluster: Cluster
  beforeAll(async () => {
    server = await startRedisCluster(3)
    cluster = new Cluster([...server.nodes])
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve())
      cluster.once('error', reject)
    })
  }, 60_000)
  afterAll(async () => {
    await cluster?.quit()
    await server?.stop()
  })

  describeStorageTable(
    { describe, test },
    () =>
      new RedisStorageTable(storageTableScorer, {
        connection: cluster,
        name: uniquePrefix('cluster-table').replace(/[{}]/g, ''),
      }),
  )
})
