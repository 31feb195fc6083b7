// The Redis read path alone: CachedTable over RedisStorageTable on a private redis-server, loaded
// from an in-memory DbAccess (no database), then range and key reads; prints wall and CPU time per
// read (CPU time is the client's own work) and the server's time per command (INFO commandstats).
// BENCH_BEFORE=<an older build's packages/redis/dist/index.js> reads through that build too, with
// its own table on the same server, in alternating blocks of reads (paired: both builds see the
// same moments of load), and prints the blocks' paired median `before ÷ after` wall time.
// Each build's memory (MEMORY USAGE of its keys), its `load` (every row) and, after the reads, an `adjust` that shifts the window by 10%
// are timed too: wall, client CPU and the server's time over all commands.
// Usage: node --import tsx src/profile-redis.ts [rows] [reads]   (PROFILE_DIR=<dir>: CPU profiles;
// BENCH_IOREDIS=5: the tables on ioredis 5 instead of 6, as in bench.ts)
import { performance } from 'node:perf_hooks'
import { RedisStorageTable } from '@cellar/redis'
import { CachedTable, primaryKeyRangeIndexes } from '@cellar/tablecache'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { Redis as Redis5 } from 'ioredis5'
import { profiled } from './cpu-profile.js'
import { load, quantile } from './paired.js'
import { type Query, type Row, rowsDb } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 100_000)
const READS = Number(process.argv[3] ?? 5_000)
const BLOCK = 100
const SHIFT = Math.floor(ROWS / 10)

// Rows past ROWS are there for the closing adjust.
const db = rowsDb(ROWS + SHIFT)
// One per table: the indexes hold the table's coverage.
const makeIndexes = () =>
  primaryKeyRangeIndexes<Row, Query>({
    primaryKey: (r) => r.id,
    queryIntervals: (intervals) => intervals.map(({ ge, lt }) => ({ ge, lt })),
    queryKeys: (keys) => keys.map(Number),
  })
type TableClass = typeof RedisStorageTable
const builds: Array<[name: string, table: TableClass]> = [['after', RedisStorageTable]]
const before = process.env.BENCH_BEFORE
if (before !== undefined && before !== '') {
  const old = (await import(before)) as { RedisStorageTable: TableClass }
  builds.unshift(['before', old.RedisStorageTable])
}

interface Tally {
  wall: number[]
  cpu: number
  reads: number
  server: Map<string, { calls: number; usec: number }>
}

// The server's own time per command since the last RESETSTAT, added to `into`.
async function serverTime(client: Redis, into: Tally['server']): Promise<void> {
  for (const line of (await client.info('commandstats')).split('\n')) {
    const found = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (found === null || found[1]?.startsWith('config') || found[1] === 'info') continue
    const seen = into.get(found[1] as string) ?? { calls: 0, usec: 0 }
    seen.calls += Number(found[2])
    seen.usec += Number(found[3])
    into.set(found[1] as string, seen)
  }
}

// Wall and client CPU of `work`, and the server's time per command meanwhile (a script's time
// includes the commands it calls, which are listed on their own too).
async function phase(name: string, build: string, work: () => Promise<unknown>): Promise<void> {
  await client.config('RESETSTAT')
  const cpu = process.cpuUsage()
  const start = performance.now()
  await work()
  const wall = performance.now() - start
  const used = process.cpuUsage(cpu)
  const server: Tally['server'] = new Map()
  await serverTime(client, server)
  const top = [...server]
    .filter(([, s]) => s.usec >= 1000)
    .sort((a, b) => b[1].usec - a[1].usec)
    .map(([command, s]) => `${command} ${(s.usec / 1000).toFixed(0)} ms`)
    .join(', ')
  console.log(
    `${name}, ${build}: ${(wall / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s client CPU; server ${top}; load average ${load()}`,
  )
}

const major = process.env.BENCH_IOREDIS ?? '6'
if (major !== '5' && major !== '6') throw new Error('BENCH_IOREDIS must be 5 or 6')
const server = await startRedis()
const client = (major === '5' ? new Redis5(server.url) : new Redis(server.url)) as Redis
try {
  const tables: Array<{
    name: string
    storage: RedisStorageTable<Row>
    table: CachedTable<Row, Query>
  }> = []
  for (const [name, Table] of builds) {
    const indexes = makeIndexes()
    const storage = new Table<Row>(indexes, { connection: client, name: `profile-${name}` })
    await storage.clear()
    const table = new CachedTable(indexes, db, storage)
    await phase(`load of ${ROWS} rows`, name, () =>
      table.load({ indexName: 'primaryKeyRange', ge: 1, lt: ROWS + 1 }),
    )
    // Memory of the table's keys, counted exactly (SAMPLES 0).
    let bytes = 0
    for (const key of storage.keys) {
      bytes += Number(await client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
    }
    console.log(
      `keys of ${name}: ${(bytes / 2 ** 20).toFixed(1)} MiB, ${(bytes / ROWS).toFixed(0)} B per row`,
    )
    tables.push({ name, storage, table })
  }
  const rangeStart = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
  const keys = (i: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % ROWS))
  console.log(
    `ioredis ${major}, rows ${ROWS}, reads ${READS} per build (blocks of ${BLOCK}), builds ${builds.map(([n]) => n).join(', ')}; load average ${load()}`,
  )
  for (const [kind, read] of [
    [
      'range 100, collectRecords',
      (table: CachedTable<Row, Query>, i: number) =>
        table.collectRecords({
          indexName: 'primaryKeyRange',
          ge: rangeStart(i),
          lt: rangeStart(i) + 100,
        }),
    ],
    [
      // The same range streamed: a settled promise per record on top of the read.
      'range 100, for await',
      async (table: CachedTable<Row, Query>, i: number) => {
        const out: Row[] = []
        const spec = { indexName: 'primaryKeyRange', ge: rangeStart(i), lt: rangeStart(i) + 100 }
        for await (const record of table.getRecords(spec)) out.push(record)
        return out
      },
    ],
    [
      '50 keys, collectRecords',
      (table: CachedTable<Row, Query>, i: number) =>
        table.collectRecords({ indexName: 'primaryKey', keys: keys(i) }),
    ],
  ] as const) {
    const want = kind.startsWith('range') ? 100 : 50
    const tallies = tables.map(() => ({ wall: [], cpu: 0, reads: 0, server: new Map() }) as Tally)
    for (const { table } of tables) for (let i = 0; i < 200; i++) await read(table, i)
    await profiled(kind, async () => {
      for (let first = 0; first < READS; first += BLOCK) {
        // Alternate which build goes first, so neither always follows the other.
        const order = tables.map((_, k) => k)
        if ((first / BLOCK) % 2 === 1) order.reverse()
        for (const k of order) {
          const { table } = tables[k] as (typeof tables)[number]
          const tally = tallies[k] as Tally
          await client.config('RESETSTAT')
          const cpu = process.cpuUsage()
          const start = performance.now()
          for (let i = first; i < first + BLOCK; i++) {
            const found = await read(table, i)
            if (found.length !== want) throw new Error(`short read: ${found.length}`)
          }
          tally.wall.push(((performance.now() - start) / BLOCK) * 1000)
          const used = process.cpuUsage(cpu)
          tally.cpu += used.user + used.system
          tally.reads += BLOCK
          await serverTime(client, tally.server)
        }
      }
    })
    console.log(`${kind} (load average ${load()}):`)
    tables.forEach(({ name }, k) => {
      const tally = tallies[k] as Tally
      const server = [...tally.server]
        .map(([command, s]) => `${command} ${(s.usec / s.calls).toFixed(1)} µs × ${s.calls}`)
        .join(', ')
      console.log(
        `  ${name}: ${quantile(tally.wall, 0.5).toFixed(1)} µs wall (median block), ${(tally.cpu / tally.reads).toFixed(1)} µs client CPU per read; server: ${server}`,
      )
    })
    if (tallies.length === 2) {
      const [old, now] = tallies as [Tally, Tally]
      const ratio = old.wall.map((w, b) => w / (now.wall[b] as number))
      const f = (q: number) => quantile(ratio, q).toFixed(2)
      console.log(`  before ÷ after, paired median of blocks: ${f(0.5)}× (${f(0.25)}–${f(0.75)})`)
    }
  }
  for (const { name, table } of tables) {
    await phase(`adjust by ${SHIFT} rows`, name, async () => {
      await table.adjust({ indexName: 'primaryKeyRange', ge: SHIFT + 1, lt: ROWS + SHIFT + 1 })
      // Superseded versions go after the merge, in the background: wait for the sorted set to
      // hold just the new window.
      const [, index] = tables.find((t) => t.name === name)?.storage.keys ?? []
      for (let i = 0; i < 10_000 && (await client.zcard(index as string)) !== ROWS; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })
  }
  for (const { storage } of tables) await storage.clear()
} finally {
  await client.quit()
  await server.stop()
}
