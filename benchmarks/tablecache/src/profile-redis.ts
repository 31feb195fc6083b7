// The Redis read path alone, for `node --cpu-prof`: CachedTable over RedisStorageTable on a
// private redis-server, loaded from an in-memory DbAccess (no database), then range and key
// reads; prints wall and CPU time per read (CPU time is the client's own work).
// Usage: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/profile-redis.ts [rows] [reads]
import { performance } from 'node:perf_hooks'
import type { DbAccess, DbRecordsSpec } from '@cellar/core'
import { RedisStorageTable } from '@cellar/redis'
import { CachedTable, primaryKeyRangeIndexes } from '@cellar/tablecache'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { profiled } from './cpu-profile.js'
import { load } from './paired.js'

const ROWS = Number(process.argv[2] ?? 100_000)
const READS = Number(process.argv[3] ?? 5_000)

interface Row {
  id: number
  ts: string
  amount: number
  note: string
}
type Query = { ge: number; lt: number }[] | number[]

// The row shape the benchmark's PostgreSQL table returns (bigint `ts` as a string).
const row = (id: number): Row => ({
  id,
  ts: String(id * 10),
  amount: (id * 7919) % 1000,
  note: `order ${id}`,
})
const db: DbAccess<Row, Query> = {
  async *getRecords(spec: DbRecordsSpec<Query>) {
    const query = spec.query
    if (typeof query[0] === 'number') {
      for (const id of query as number[]) if (id >= 1 && id <= ROWS) yield row(id)
      return
    }
    for (const { ge, lt } of query as { ge: number; lt: number }[]) {
      for (let id = Math.max(1, Math.ceil(ge)); id < lt && id <= ROWS; id++) yield row(id)
    }
  },
}
const indexes = primaryKeyRangeIndexes<Row, Query>({
  primaryKey: (r) => r.id,
  queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
  queryKeys: (keys) => keys.map(Number),
})
const server = await startRedis()
const client = new Redis(server.url)
try {
  const storage = new RedisStorageTable<Row>(indexes, { connection: client, name: 'profile' })
  const table = new CachedTable(indexes, db, storage)
  await table.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 })
  const rangeStart = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
  const keys = (i: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % ROWS))
  console.log(`rows ${ROWS}, reads ${READS}, load average ${load()}`)
  for (const [name, read] of [
    [
      'range 100, collectRecords',
      (i: number) =>
        table.collectRecords({
          indexName: 'primaryKeyRange',
          ge: rangeStart(i),
          lt: rangeStart(i) + 100,
        }),
    ],
    [
      '50 keys, collectRecords',
      (i: number) => table.collectRecords({ indexName: 'primaryKey', keys: keys(i) }),
    ],
  ] as const) {
    for (let i = 0; i < 200; i++) await read(i)
    await client.config('RESETSTAT')
    const cpu = process.cpuUsage()
    const start = performance.now()
    await profiled(name, async () => {
      for (let i = 0; i < READS; i++) {
        const found = await read(i)
        if (found.length !== (name.startsWith('range') ? 100 : 50)) throw new Error('short read')
      }
    })
    const wall = ((performance.now() - start) / READS) * 1000
    const used = process.cpuUsage(cpu)
    const cpuUs = (used.user + used.system) / READS
    // The server's own time per command, from its statistics.
    const stats = (await client.info('commandstats'))
      .split('\n')
      .filter((line) => /calls=/.test(line))
      .map((line) =>
        line
          .replace(/^cmdstat_/, '')
          .replace(/,rejected_calls.*$/, '')
          .trim(),
      )
    console.log(`${name}: ${wall.toFixed(1)} µs wall, ${cpuUs.toFixed(1)} µs client CPU per read`)
    console.log(`  server: ${stats.join('; ')}`)
  }
  await storage.clear()
} finally {
  await client.quit()
  await server.stop()
}
