// redis-server instructions per RedisStorageTable read (load-independent): one private
// redis-server under `valgrind --tool=callgrind`, a table per build (this one, and BENCH_BEFORE=
// <an older packages/redis/dist/index.js>) holding the same rows, then per build and kind of read:
// counters zeroed (`callgrind_control -z`), the reads, a dump (`-d`); an idle span of the same
// length is measured after each and taken off (the server's own timers).
// Usage: node --import tsx src/redis-callgrind.ts [rows] [reads]
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { RedisStorageTable } from '@cellar/redis'
import { primaryKeyRangeIndexes } from '@cellar/tablecache'
import { freePort, pingRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { type Row, row } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 20_000)
const READS = Number(process.argv[3] ?? 500)
const run = promisify(execFile)

// The total of the newest dump in `dir` (callgrind's `totals:` line).
function lastTotal(dir: string): number {
  const dumps = readdirSync(dir)
    .filter((f) => /\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  const text = readFileSync(join(dir, dumps.at(-1) as string), 'utf8')
  const match = /^(?:totals|summary): (\d+)/m.exec(text)
  if (match === null) throw new Error(`no total in ${dumps.at(-1)}`)
  return Number(match[1])
}

const dir = mkdtempSync(join(tmpdir(), 'table-cost-'))
const port = await freePort()
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    `--callgrind-out-file=${dir}/cg.out`,
    'redis-server',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--hz',
    '1',
    '--dir',
    dir,
  ],
  { stdio: 'ignore' },
)
const url = `redis://127.0.0.1:${port}`
for (let i = 0; !(await pingRedis(url)); i++) {
  if (i > 150) throw new Error('redis-server under callgrind did not start')
  await sleep(200)
}
const client = new Redis(url)
const pid = String(server.pid)
try {
  type TableClass = typeof RedisStorageTable
  const builds: Array<[string, TableClass]> = [['this build', RedisStorageTable]]
  const before = process.env.BENCH_BEFORE
  if (before !== undefined && before !== '') {
    builds.push([
      'before',
      ((await import(before)) as { RedisStorageTable: TableClass }).RedisStorageTable,
    ])
  }
  const tables: Array<[string, RedisStorageTable<Row>]> = []
  for (const [name, Table] of builds) {
    const indexes = primaryKeyRangeIndexes<Row, unknown>({
      primaryKey: (r) => r.id,
      queryIntervals: (intervals) => intervals,
      queryKeys: (keys) => keys,
    })
    const table = new Table<Row>(indexes, { connection: client, name: `cost-${tables.length}` })
    await table.clear()
    for (let id = 1; id <= ROWS; id++) await table.scratchPutRecord(row(id))
    await table.scratchMerge()
    tables.push([name, table])
  }
  const start = (i: number) => 1 + ((i * 7_919) % (ROWS - 200))
  const reads: Array<[string, number, (t: RedisStorageTable<Row>, i: number) => Promise<Row[]>]> = [
    [
      '100-record range',
      100,
      (t, i) =>
        t.getRecords({
          indexName: 'primaryKeyRange',
          scoreIntervals: [{ ge: start(i), lt: start(i) + 100 }],
        }),
    ],
    [
      '50 keys',
      50,
      (t, i) =>
        t.getRecords({
          indexName: 'primaryKey',
          scoreIntervals: [],
          primaryKeys: Array.from({ length: 50 }, (_, j) =>
            String(1 + (((i * 50 + j) * 104_729) % ROWS)),
          ),
        }),
    ],
  ]
  console.log(`rows ${ROWS}, ${READS} reads each; load ${loadavg()[0]?.toFixed(2)}`)
  console.log('| read | build | redis-server instructions per read |')
  console.log('| --- | --- | ---: |')
  for (const [kind, want, read] of reads) {
    for (const [name, table] of tables) {
      for (let i = 0; i < 50; i++) await read(table, i)
      const began = Date.now()
      await run('callgrind_control', ['-z', pid])
      for (let i = 0; i < READS; i++) {
        if ((await read(table, i)).length !== want) throw new Error(`${name}: short read`)
      }
      const spent = Date.now() - began
      await run('callgrind_control', ['-d', pid])
      const busy = lastTotal(dir)
      await run('callgrind_control', ['-z', pid])
      await sleep(spent)
      await run('callgrind_control', ['-d', pid])
      const idle = lastTotal(dir)
      console.log(`| ${kind} | ${name} | ${Math.round((busy - idle) / READS)} |`)
    }
  }
  for (const [, table] of tables) await table.clear()
} finally {
  client.disconnect()
  server.kill('SIGTERM')
  await new Promise((resolve) => server.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
}
