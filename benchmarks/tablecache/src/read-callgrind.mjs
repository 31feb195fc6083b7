// Instructions per `CachedTable` read (load-independent), for one or two builds of
// @cellar/tablecache: a 100-record range and 50 keys, by `for await`, `collectRecords` and
// `peekRecords`, on a `LocalStorageTable` and on an asynchronous storage (the same local table
// behind promises only, as `RedisStorageTable` answers: what `CachedTable` adds to a Redis read,
// without ioredis's and the socket's instructions, which spread by ±15% between counts). With
// REDIS=1, also `RedisStorageTable` (REDIS_URL or 127.0.0.1:6379, this checkout's @cellar/redis
// build) and its `getRecords` alone. Each read gets its own range or keys and touches a field of
// each record. Run under callgrind, which the script drives on itself (counters zeroed before a
// block of reads, dumped after); a block building the same specs and awaiting an empty promise
// instead is subtracted. `--single-threaded` keeps V8's background compiler and GC threads, which
// callgrind would count too, out of the blocks; what compiling is left in a block only adds, so
// the least of ROUNDS counts is shown, then the median.
// Limits (2026-12-03): the rounds of one count spread by 30-50% (GC and compiling fall unevenly
// into the blocks), so differences under about 10k instructions per read don't show; a read's
// promise steps are counted exactly by packages/tablecache/test/async-storage.test.ts instead.
// Plain JavaScript, so valgrind does not run a TypeScript loader.
// Usage: valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.out node --expose-gc \
//   --single-threaded src/read-callgrind.mjs <dir> <tablecache dist/index.js>[,<another build>] \
//   [reads=1000]   (about 15 minutes for two builds without REDIS)
import { execFileSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { RedisStorageTable } from '@cellar/redis'
import { Redis } from 'ioredis'
import { lastTotal } from './callgrind-dump.mjs'

const [dir, builds, readsArg] = process.argv.slice(2)
if (dir === undefined || builds === undefined)
  throw new Error('usage: … read-callgrind.mjs <callgrind out dir> <build>[,<build>] [reads]')
const READS = Number(readsArg ?? 1_000)
const ROWS = 20_000
const REDIS_ROWS = 5_000
const ROUNDS = 5
const WITH_REDIS = process.env.REDIS === '1'
const pid = String(process.pid)
const gc = globalThis.gc

// Instructions per call of `read(prepare(i))` over `reads` calls, less those of as many calls of
// `nothing(prepare(i))` (the inputs built inside the block in both).
async function count(reads, prepare, read) {
  const block = async (call) => {
    gc?.()
    execFileSync('callgrind_control', ['-z', pid], { stdio: 'ignore' })
    for (let i = 0; i < reads; i++) await call(prepare(i))
    execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' })
    return lastTotal(dir) / reads
  }
  const base = await block(nothing)
  return (await block(read)) - base
}
const nothing = () => Promise.resolve()

const row = (id) => ({ id, ts: String(id * 10), amount: (id * 7919) % 1000, note: `order ${id}` })
let checksum = 0
const touch = (records) => {
  for (const r of records) checksum += r.amount
  return records.length
}
const drain = async (iterable) => {
  let n = 0
  for await (const r of iterable) {
    checksum += r.amount
    n++
  }
  return n
}
const expect = (n) => (got) => {
  if (got !== n) throw new Error(`a read returned ${got} records, not ${n}`)
}

const redis = WITH_REDIS ? new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined
// The local table behind promises only (no `synchronous`, no `getRecordsSync`).
const asynchronous = (table) => ({
  name: 'async',
  clear: () => table.clear(),
  putRecord: (record) => table.putRecord(record),
  getRecord: (key) => table.getRecord(key),
  getRecords: (spec) => table.getRecords(spec),
  deleteRecords: (spec) => table.deleteRecords(spec),
  scratchPutRecord: (record) => table.scratchPutRecord(record),
  scratchDiscardRecords: (spec) => table.scratchDiscardRecords(spec),
  scratchMerge: (onVisible) => table.scratchMerge(onVisible),
})
const contenders = []
const cleanups = []
for (const [b, path] of builds.split(',').entries()) {
  const tc = await import(pathToFileURL(path).href)
  const label = builds.includes(',') ? ` [${'AB'[b]}]` : ''
  if (label !== '') console.log(`${label.trim()}: ${path}\n`)
  const makeIndexes = () =>
    tc.primaryKeyRangeIndexes({
      primaryKey: (r) => r.id,
      queryIntervals: (intervals) => intervals,
      queryKeys: (keys) => keys.map(Number),
    })
  const db = (rows) => ({
    async *getRecords({ query }) {
      if (typeof query[0] === 'number') {
        for (const id of query) if (id >= 1 && id <= rows) yield row(id)
        return
      }
      for (const { ge, lt } of query)
        for (let id = Math.max(1, Math.ceil(ge)); id < lt && id <= rows; id++) yield row(id)
    },
  })
  const tables = []
  const localIndexes = makeIndexes()
  tables.push(['local', localIndexes, new tc.LocalStorageTable(localIndexes), ROWS])
  const asyncIndexes = makeIndexes()
  tables.push(['async', asyncIndexes, asynchronous(new tc.LocalStorageTable(asyncIndexes)), ROWS])
  if (redis !== undefined) {
    const redisIndexes = makeIndexes()
    const name = `read-cg-${process.pid}-${b}`
    const storage = new RedisStorageTable(redisIndexes, { connection: redis, name })
    tables.push(['Redis', redisIndexes, storage, REDIS_ROWS])
    cleanups.push(() => storage.clear())
  }
  for (const [kind, indexes, storage, rows] of tables) {
    const cached = new tc.CachedTable(indexes, db(rows), storage)
    await cached.load({ indexName: 'primaryKeyRange', ge: 1, lt: rows + 1 })
    // Waits for the load's fold into the row map (see before-after.ts).
    if (kind !== 'Redis') await storage.putRecord(await storage.getRecord('1'))
    const ranges = (i) => {
      const ge = 1 + ((i * 7_919) % (rows - 200))
      return { indexName: 'primaryKeyRange', ge, lt: ge + 100 }
    }
    const keys = (i) => ({
      indexName: 'primaryKey',
      keys: Array.from({ length: 50 }, (_, j) => 1 + (((i * 50 + j) * 104_729) % rows)),
    })
    for (const [what, n, spec] of [
      ['range 100', 100, ranges],
      ['50 keys', 50, keys],
    ]) {
      const name = (how) => `${kind} ${what}, ${how}${label}`
      contenders.push(
        [name('for await'), spec, async (s) => expect(n)(await drain(cached.getRecords(s)))],
        [
          name('collectRecords'),
          spec,
          async (s) => expect(n)(touch(await cached.collectRecords(s))),
        ],
      )
      if (kind === 'local')
        contenders.push([
          name('peekRecords'),
          spec,
          async (s) => expect(n)(touch(cached.peekRecords(s))),
        ])
      else
        contenders.push([
          name('storage.getRecords alone'),
          (i) => indexes.storageRecordsSpec(spec(i)),
          async (s) => expect(n)(touch(await storage.getRecords(s))),
        ])
    }
  }
}

// Warm-up: every contender's code reaches its optimised tier before anything is counted.
for (const [, prepare, read] of contenders)
  for (let i = 0; i < 5_000; i++) await read(prepare(i + 1_000_000))
const results = new Map(contenders.map(([name]) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse()
  for (const [name, prepare, read] of order) {
    const reads = name.startsWith('Redis') ? Math.ceil(READS / 10) : READS
    results.get(name).push(await count(reads, (i) => prepare(i + round * reads), read))
  }
}
console.log(
  `${READS} reads per count (Redis ${Math.ceil(READS / 10)}), ${ROUNDS} rounds; node ${process.version}`,
)
console.log('| read | instructions per read: least (median) | rounds |')
console.log('| --- | ---: | --- |')
for (const [name, totals] of results) {
  const per = [...totals].sort((a, b) => a - b)
  const k = (v) => `${(v / 1000).toFixed(2)}k`
  console.log(
    `| ${name} | ${k(per[0])} (${k(per[Math.floor(per.length / 2)])}) | ${totals.map(k).join(', ')} |`,
  )
}
for (const clean of cleanups) await clean()
await redis?.quit()
if (checksum === 0) console.log('(no field was read)')
