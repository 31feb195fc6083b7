// Client instructions per read (load-independent; user space only, so the socket syscalls are
// not in them): run this file under `valgrind --tool=callgrind`, which it then drives on itself
// (`callgrind_control -z` before each block of reads, `-d` after). A table of ROWS rows on a private
// redis-server (not traced), read through RedisStorageTable (a 100-record range, 50 keys) and
// through raw ioredis doing one ZRANGEBYSCORE on a sorted set of the same rows as MessagePack maps,
// on ioredis 6 and 5: the difference of the raw pair is the reply decoder's cost per reply
// element plus decoding 100 map rows. BENCH_BEFORE=<an older
// packages/redis/dist/index.js> adds that build's table. Every contender is counted ROUNDS times,
// the order turning each round (a count also holds the JIT compiler's and the GC's work, which
// fall unevenly); the median is printed.
// Usage: valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.out node --expose-gc \
//   --import tsx src/redis-client-callgrind.ts <dir> [reads]   (about 15 minutes)
import { MsgpackSerializer } from '@cellar/core'
import { RedisStorageTable } from '@cellar/redis'
import { primaryKeyRangeIndexes } from '@cellar/tablecache'
import { startRedis } from '@cellar/test-servers'
import { Redis as Redis6 } from 'ioredis'
import { Redis as Redis5 } from 'ioredis5'
import { type Row, row, rowMember } from './redis-row.js'
import { counted, lastTotal } from './server-callgrind.js'

const DIR = process.argv[2] as string
const READS = Number(process.argv[3] ?? 500)
const ROWS = 5_000
const ROUNDS = 3
if (DIR === undefined)
  throw new Error('usage: … redis-client-callgrind.ts <callgrind out dir> [reads]')

// Instructions of `reads` calls of `read`, less those of as many calls of an empty promise (the
// loop, the awaits and callgrind_control's own child process).
const pid = String(process.pid)
// With --expose-gc, a full collection first: garbage of earlier counts is not collected in this one.
const gc = (globalThis as { gc?: () => void }).gc
async function count(read: (i: number) => Promise<unknown>): Promise<number> {
  gc?.()
  await counted(pid, async () => {
    for (let i = 0; i < READS; i++) await read(i)
  })
  return lastTotal(DIR)
}

const serializer = new MsgpackSerializer()
const server = await startRedis()
const clients = { 6: new Redis6(server.url), 5: new Redis5(server.url) as unknown as Redis6 }
try {
  type TableClass = typeof RedisStorageTable
  const builds: Array<[string, TableClass]> = [['this build', RedisStorageTable]]
  const before = process.env.BENCH_BEFORE
  if (before !== undefined && before !== '') {
    const old = (await import(before)) as { RedisStorageTable: TableClass }
    builds.push(['before', old.RedisStorageTable])
  }
  const rangeStart = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
  const empty = await count(() => Promise.resolve())
  console.log(`${READS} reads per row below; node ${process.version}`)
  console.log('| ioredis | read | client instructions per read |')
  console.log('| --- | --- | ---: |')
  for (const major of [6, 5] as const) {
    const client = clients[major]
    const contenders: Array<[string, (i: number) => Promise<unknown>]> = []
    for (const [name, Table] of builds) {
      const indexes = primaryKeyRangeIndexes<Row, unknown>({
        primaryKey: (r) => r.id,
        queryIntervals: (intervals) => intervals,
        queryKeys: (keys) => keys,
      })
      const table = new Table<Row>(indexes, { connection: client, name: `cg-${major}-${name}` })
      await table.clear()
      for (let id = 1; id <= ROWS; id++) await table.scratchPutRecord(row(id))
      await table.scratchMerge()
      contenders.push([
        `RedisStorageTable.getRecords, 100-record range (${name})`,
        async (i) => {
          const found = await table.getRecords({
            indexName: 'primaryKeyRange',
            scoreIntervals: [{ ge: rangeStart(i), lt: rangeStart(i) + 100 }],
          })
          if (found.length !== 100) throw new Error('short read')
        },
      ])
      contenders.push([
        `RedisStorageTable.getRecords, 50 keys (${name})`,
        async (i) => {
          const found = await table.getRecords({
            indexName: 'primaryKey',
            scoreIntervals: [],
            primaryKeys: Array.from({ length: 50 }, (_, j) =>
              String(1 + (((i * 50 + j) * 104_729) % ROWS)),
            ),
          })
          if (found.length !== 50) throw new Error('short read')
        },
      ])
      if (name !== 'this build') continue
      // The raw reads run on a sorted set of their own holding the same rows as MessagePack maps
      // (format 1, what the table stored before its flat layout).
      const key = `cg-raw-${major}`
      await client.del(key)
      for (let id = 1; id <= ROWS; id += 500) {
        const batch: Array<number | Buffer> = []
        for (let j = id; j < id + 500 && j <= ROWS; j++) batch.push(j, rowMember(j))
        await client.zadd(key, ...(batch as [number, Buffer]))
      }
      contenders.push([
        'raw ZRANGEBYSCORE of the same rows, no decode',
        async (i) => {
          const found = await client.zrangebyscoreBuffer(
            key,
            rangeStart(i),
            `(${rangeStart(i) + 100}`,
          )
          if (found.length !== 100) throw new Error('short read')
        },
      ])
      contenders.push([
        'raw ZRANGEBYSCORE, each row decoded (map rows)',
        async (i) => {
          const found = await client.zrangebyscoreBuffer(
            key,
            rangeStart(i),
            `(${rangeStart(i) + 100}`,
          )
          let n = 0
          for (const m of found) {
            const colon = m.indexOf(58)
            const at = colon + 1 + Number(m.toString('latin1', 0, colon)) + 1
            n += (serializer.decodeFrom(m, at) as Row).amount
          }
          if (n < 0) throw new Error('negative')
        },
      ])
    }
    for (const [, read] of contenders) for (let i = 0; i < 300; i++) await read(i + 10_000)
    const counts: number[][] = contenders.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      for (let k0 = 0; k0 < contenders.length; k0++) {
        const k = (k0 + round) % contenders.length
        const [, read] = contenders[k] as (typeof contenders)[number]
        ;(counts[k] as number[]).push(((await count(read)) - empty) / READS)
      }
    }
    contenders.forEach(([name], k) => {
      const sorted = [...(counts[k] as number[])].sort((a, b) => a - b)
      const median = sorted[Math.floor(sorted.length / 2)] as number
      const all = (counts[k] as number[]).map((c) => Math.round(c / 1000)).join(', ')
      console.log(`| ${major} | ${name} | ${Math.round(median)} (k per round: ${all}) |`)
    })
  }
} finally {
  for (const c of Object.values(clients)) await c.quit()
  await server.stop()
}
