// What the shape of a range read's reply costs: the same 100 index members (the table's layout:
// `<field length>:<field>` then the framed row) fetched as ZRANGEBYSCORE (100 reply elements), as
// one bulk string built by a Lua script, and as the DUMP of a ZRANGESTORE copy, on ioredis 6 and
// ioredis 5, on a private redis-server; "(no decode)" contenders stop at the reply (client cost of
// the reply alone). Every contender reads its own range in an iteration (shuffled order, each call
// timed alone); prints wall p50, client CPU per read (process.cpuUsage over its own calls) and the
// server's time per call of the contender's main command (INFO commandstats, every 10th
// iteration; a script's time includes the commands it calls). redis-shape-callgrind.ts counts the
// server's instructions for the same shapes. SHAPE_ONLY=<words,…> keeps contenders naming one.
// Usage: node --import tsx src/redis-reply-shape.ts [rows] [iterations]
import { performance } from 'node:perf_hooks'
import { startRedis } from '@cellar/test-servers'
import { Redis as Redis6 } from 'ioredis'
import { Redis as Redis5 } from 'ioredis5'
import { load, quantile } from './paired.js'
import { decodeRowAt, type Row, rowMember } from './redis-row.js'

const ROWS = Number(process.argv[2] ?? 20_000)
const ITERATIONS = Number(process.argv[3] ?? 2_000)
const ONLY = process.env.SHAPE_ONLY?.split(',')

// Lua variants: the members concatenated as they are (the cheapest concatenation; splitting it
// needs members that say where they end, which the layout's do not), and each member after its
// length as 4 bytes (decodable as it stands).
const CONCAT = `return table.concat(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE'))`
const PACKED = `
local m = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE')
for i = 1, #m do m[i] = struct.pack('<I4', #m[i]) .. m[i] end
return table.concat(m)`

interface Contender {
  name: string
  run: (i: number) => Promise<Row[]>
  wall: number[]
  cpu: number
  command: string
}

const placeholders = () =>
  Array.from({ length: 100 }, () => ({ id: 0, ts: '', amount: 0, note: '' }))

function splitMembers(members: readonly Buffer[]): Row[] {
  const out: Row[] = []
  for (const m of members) {
    const colon = m.indexOf(58)
    out.push(decodeRowAt(m, colon + 1 + Number(m.toString('latin1', 0, colon))))
  }
  return out
}
function splitPacked(all: Buffer): Row[] {
  const out: Row[] = []
  let at = 0
  while (at < all.length) {
    const length = all.readUInt32LE(at)
    const start = at + 4
    const end = start + length
    let fieldLength = 0
    let p = start
    while (all[p] !== 58) fieldLength = fieldLength * 10 + (all[p++] as number) - 48
    out.push(decodeRowAt(all, p + 1 + fieldLength, end))
    at = end
  }
  return out
}

const server = await startRedis()
const clients = { 6: new Redis6(server.url), 5: new Redis5(server.url) }
const admin = new Redis6(server.url)
try {
  const key = 'shape{t}:index'
  await admin.del(key)
  for (let first = 1; first <= ROWS; first += 1000) {
    const args: Array<number | Buffer> = []
    for (let id = first; id < first + 1000 && id <= ROWS; id++) {
      args.push(id, rowMember(id))
    }
    await admin.zadd(key, ...args)
  }
  const rangeStart = (i: number, c: number) => 1 + (((i * 16 + c) * 7_919) % (ROWS - 200))
  const contenders: Contender[] = []
  for (const major of [6, 5] as const) {
    const client = clients[major] as Redis6
    const add = (name: string, command: string, run: (ge: number) => Promise<Row[]>) => {
      const full = `ioredis ${major}: ${name}`
      if (ONLY !== undefined && !ONLY.some((o) => full.includes(o))) return
      const k = contenders.length
      contenders.push({ name: full, run: (i) => run(rangeStart(i, k)), wall: [], cpu: 0, command })
    }
    add('ZRANGEBYSCORE', 'zrangebyscore', async (ge) =>
      splitMembers(await client.zrangebyscoreBuffer(key, ge, `(${ge + 100}`)),
    )
    add('ZRANGEBYSCORE (no decode)', 'zrangebyscore', async (ge) => {
      const members = await client.zrangebyscoreBuffer(key, ge, `(${ge + 100}`)
      if (members.length !== 100) throw new Error('short reply')
      return placeholders()
    })
    const script = (lua: string) => {
      const sha = admin.script('LOAD', lua) as Promise<string>
      return async (ge: number) =>
        (await client.callBuffer(
          'EVALSHA',
          await sha,
          1,
          key,
          ge,
          `(${ge + 100}`,
        )) as unknown as Buffer
    }
    const packed = script(PACKED)
    add('Lua struct.pack concat', 'evalsha', async (ge) => splitPacked(await packed(ge)))
    const bare = script(CONCAT)
    add('Lua bare concat (no decode)', 'evalsha', async (ge) => {
      const all = await bare(ge)
      if (all.length < 100) throw new Error('short reply')
      return placeholders()
    })
    // The members copied to a key of their own and that key's DUMP: one bulk string in the RDB
    // format (a listpack, perhaps LZF-compressed), whose parsing is not written: cost only.
    add('MULTI ZRANGESTORE, DUMP, DEL (no decode)', 'dump', async (ge) => {
      const tmp = `shape{t}:tmp:${major}`
      const results = await client
        .multi()
        .zrangestore(tmp, key, ge, `(${ge + 100}`, 'BYSCORE')
        .dumpBuffer(tmp)
        .del(tmp)
        .exec()
      const dumped = results?.[1]?.[1] as Buffer | undefined
      if (results?.[0]?.[1] !== 100 || dumped === undefined) throw new Error('short reply')
      return placeholders()
    })
  }

  let seed = 7
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  const serverTimes = new Map<string, { calls: number; usec: number }>()
  const serverTime = async (c: Contender) => {
    for (const line of (await admin.info('commandstats')).split('\n')) {
      const found = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
      if (found?.[1] !== c.command) continue
      const seen = serverTimes.get(c.name) ?? { calls: 0, usec: 0 }
      seen.calls += Number(found[2])
      seen.usec += Number(found[3])
      serverTimes.set(c.name, seen)
    }
  }
  const startLoad = load()
  for (let i = -200; i < ITERATIONS; i++) {
    const order = [...contenders]
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1))
      ;[order[k], order[j]] = [order[j] as Contender, order[k] as Contender]
    }
    for (const c of order) {
      if (i >= 0 && i % 10 === 0) await admin.config('RESETSTAT')
      const cpu = process.cpuUsage()
      const start = performance.now()
      const found = await c.run(i + 200)
      const took = performance.now() - start
      const used = process.cpuUsage(cpu)
      if (found.length !== 100) throw new Error(`${c.name}: ${found.length} records`)
      if (i >= 0) {
        c.wall.push(took * 1000)
        c.cpu += used.user + used.system
        if (i % 10 === 0) await serverTime(c)
      }
    }
  }
  console.log(
    `rows ${ROWS}, ${ITERATIONS} paired iterations; load average ${startLoad} at start, ${load()} at end`,
  )
  const reference = contenders[0] as Contender
  for (const c of contenders) {
    const ratio = c.wall.map((w, n) => (reference.wall[n] as number) / w)
    const f = (q: number) => quantile(ratio, q).toFixed(2)
    const s = serverTimes.get(c.name)
    console.log(
      `${c.name}: p50 ${quantile(c.wall, 0.5).toFixed(0)} µs, first ÷ this ${f(0.5)}× (${f(0.25)}–${f(0.75)}), client CPU ${(c.cpu / ITERATIONS).toFixed(0)} µs, server ${s === undefined ? '?' : (s.usec / s.calls).toFixed(1)} µs per read`,
    )
  }
} finally {
  for (const c of Object.values(clients)) await c.quit()
  await admin.quit()
  await server.stop()
}
