// RedisStorageTable reads against raw ioredis doing the same commands (the floor of the current
// layout) and against one-round-trip layouts, on a private redis-server, no database. Every
// contender reads its own range or keys in an iteration (shuffled order, each call timed alone);
// prints wall p50 per read, the paired median `table ÷ contender`, and client CPU per read (the
// sum of process.cpuUsage over each contender's own calls).
// Usage: node --import tsx src/redis-floor.ts [rows] [iterations]
// FLOOR_ONLY=<words,…> keeps the contenders whose name holds one of them.
import { performance } from 'node:perf_hooks'
import { RedisStorageTable } from '@cellar/redis'
import { primaryKeyRangeIndexes } from '@cellar/tablecache'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { profiled } from './cpu-profile.js'
import { load, quantile } from './paired.js'
import { decodeRowAt, framedRow, type Row, row, rowMember } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 100_000)
const ITERATIONS = Number(process.argv[3] ?? 3_000)
const ONLY = process.env.FLOOR_ONLY?.split(',')

interface Contender {
  name: string
  kind: 'range' | 'keys'
  run: (i: number) => Promise<Row[]>
  wall: number[]
  cpu: number
}

const server = await startRedis()
const client = new Redis(server.url)
try {
  const indexes = primaryKeyRangeIndexes<Row, unknown>({
    primaryKey: (r) => r.id,
    queryIntervals: (intervals) => intervals,
    queryKeys: (keys) => keys,
  })
  const table = new RedisStorageTable<Row>(indexes, { connection: client, name: 'floor' })
  await table.clear()
  for (let id = 1; id <= ROWS; id++) await table.scratchPutRecord(row(id))
  await table.scratchMerge()

  // Raw layouts: the table's layout before 2026-12-03 (`1:<pk>` fields of one hash, the same
  // members in a sorted set); members that carry the row (the field's length, `:`, the field, the
  // framed row: the table's layout since); one string key per row.
  const base = 'raw{floor}'
  await client.del(`${base}:rows`, `${base}:index`, `${base}:embedded`)
  for (let first = 1; first <= ROWS; first += 1000) {
    const pipeline = client.pipeline()
    const rows: Array<string | Buffer> = []
    const scores: Array<number | string> = []
    const embedded: Array<number | Buffer> = []
    for (let id = first; id < first + 1000 && id <= ROWS; id++) {
      const bytes = framedRow(row(id))
      rows.push(`1:${id}`, bytes)
      scores.push(id, `1:${id}`)
      embedded.push(id, rowMember(id, bytes))
      pipeline.set(`${base}:r:1:${id}`, bytes)
    }
    pipeline.hset(`${base}:rows`, ...rows)
    pipeline.zadd(`${base}:index`, ...scores)
    pipeline.zadd(`${base}:embedded`, ...embedded)
    await pipeline.exec()
  }

  // Every contender reads a different range / key set in an iteration.
  const rangeStart = (i: number, c: number) => 1 + (((i * 8 + c) * 7_919) % (ROWS - 200))
  const keysOf = (i: number, c: number) =>
    Array.from({ length: 50 }, (_, j) => 1 + ((((i * 8 + c) * 50 + j) * 104_729) % ROWS))

  const contenders: Contender[] = []
  const add = (name: string, kind: Contender['kind'], run: Contender['run']) => {
    if (ONLY === undefined || ONLY.some((o) => name.includes(o)))
      contenders.push({ name, kind, run, wall: [], cpu: 0 })
  }
  const c = () => contenders.length
  {
    const k = c()
    add('range: RedisStorageTable.getRecords', 'range', (i) =>
      table.getRecords({
        indexName: 'primaryKeyRange',
        scoreIntervals: [{ ge: rangeStart(i, k), lt: rangeStart(i, k) + 100 }],
      }),
    )
  }
  {
    const k = c()
    add('range: raw ZRANGEBYSCORE, HMGET', 'range', async (i) => {
      const ge = rangeStart(i, k)
      const members = await client.zrangebyscore(`${base}:index`, ge, `(${ge + 100}`)
      const rows = await client.hmgetBuffer(`${base}:rows`, ...members)
      const out: Row[] = []
      for (const bytes of rows) if (bytes !== null) out.push(decodeRowAt(bytes, 0))
      return out
    })
  }
  {
    const k = c()
    add('range: raw ZRANGEBYSCORE of members carrying rows', 'range', async (i) => {
      const ge = rangeStart(i, k)
      const members = await client.zrangebyscoreBuffer(`${base}:embedded`, ge, `(${ge + 100}`)
      const out: Row[] = []
      for (const m of members) {
        const colon = m.indexOf(58)
        out.push(decodeRowAt(m, colon + 1 + Number(m.toString('latin1', 0, colon))))
      }
      return out
    })
  }
  {
    const k = c()
    add('range: raw MULTI ZRANGESTORE, SORT GET, DEL', 'range', async (i) => {
      const ge = rangeStart(i, k)
      const tmp = `${base}:tmp`
      const multi = client.multi().zrangestore(tmp, `${base}:index`, ge, `(${ge + 100}`, 'BYSCORE')
      // ioredis has sortBuffer at run time, but its types do not list it.
      const sorting = multi as unknown as {
        sortBuffer(...args: string[]): typeof multi
      }
      const results = await sorting
        .sortBuffer(tmp, 'BY', 'nosort', 'GET', `${base}:r:*`)
        .del(tmp)
        .exec()
      const out: Row[] = []
      for (const bytes of (results?.[1]?.[1] ?? []) as Array<Buffer | null>) {
        if (bytes !== null) out.push(decodeRowAt(bytes, 0))
      }
      return out
    })
  }
  {
    const k = c()
    add('keys: RedisStorageTable.getRecords', 'keys', (i) => {
      const keys = keysOf(i, k).map(String)
      return table.getRecords({
        indexName: 'primaryKey',
        scoreIntervals: [],
        primaryKeys: keys,
      })
    })
  }
  {
    const k = c()
    add('keys: raw HMGET', 'keys', async (i) => {
      const fields = keysOf(i, k).map((id) => `1:${id}`)
      const rows = await client.hmgetBuffer(`${base}:rows`, ...fields)
      const out: Row[] = []
      for (const bytes of rows) if (bytes !== null) out.push(decodeRowAt(bytes, 0))
      return out
    })
  }

  let seed = 7
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  const startLoad = load()
  // PROFILE_DIR=<dir>: a CPU profile of the reads alone.
  await profiled('redis-floor', async () => {
    for (let i = -200; i < ITERATIONS; i++) {
      const order = [...contenders]
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1))
        ;[order[k], order[j]] = [order[j] as Contender, order[k] as Contender]
      }
      for (const contender of order) {
        const cpu = process.cpuUsage()
        const start = performance.now()
        const found = await contender.run(i + 200)
        const took = performance.now() - start
        const used = process.cpuUsage(cpu)
        const want = contender.kind === 'range' ? 100 : 50
        if (found.length !== want || typeof found[0]?.amount !== 'number') {
          throw new Error(`${contender.name}: ${found.length} records`)
        }
        if (i >= 0) {
          contender.wall.push(took * 1000)
          contender.cpu += used.user + used.system
        }
      }
    }
  })
  console.log(
    `rows ${ROWS}, ${ITERATIONS} paired iterations; load average ${startLoad} at start, ${load()} at end`,
  )
  for (const kind of ['range', 'keys'] as const) {
    const group = contenders.filter((x) => x.kind === kind)
    const reference = group[0]
    if (reference === undefined) continue
    for (const x of group) {
      const ratio = x.wall.map((w, n) => (reference.wall[n] as number) / w)
      const f = (q: number) => quantile(ratio, q).toFixed(2)
      console.log(
        `${x.name}: p50 ${quantile(x.wall, 0.5).toFixed(0)} µs, table ÷ this ${f(0.5)}× (${f(0.25)}–${f(0.75)}), client CPU ${(x.cpu / ITERATIONS).toFixed(0)} µs per read`,
      )
    }
  }
  await table.clear()
} finally {
  await client.quit()
  await server.stop()
}
