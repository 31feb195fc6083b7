// redis-server instructions (load-independent) per 100-member range read, by reply shape: plain
// ZRANGEBYSCORE (100 reply elements) against Lua scripts that return the same members as one bulk
// string (see redis-reply-shape.ts for wall and client CPU), with the parts of a script's cost
// apart: an empty script, and a script that calls ZRANGE but returns only the count. One private
// redis-server under `valgrind --tool=callgrind`; per shape the counters are zeroed, the reads
// made, a dump taken, and an idle span of the same length (the server's timers) taken off.
// Usage: node --import tsx src/redis-shape-callgrind.ts [reads]
import { Redis } from 'ioredis'
import { rowMember } from './redis-row.js'
import { startTracedRedis } from './server-callgrind.js'

const READS = Number(process.argv[2] ?? 200)
const ROWS = 20_000

const scripts: Record<string, string> = {
  'Lua: return 1 (a script call alone)': 'return 1',
  'Lua: ZRANGE, return the count': `return #redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE')`,
  'Lua: ZRANGE, table.concat': `return table.concat(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE'))`,
  'Lua: ZRANGE, struct.pack length + member, concat': `
local m = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE')
for i = 1, #m do m[i] = struct.pack('<I4', #m[i]) .. m[i] end
return table.concat(m)`,
}

const server = await startTracedRedis('reply-shape')
const client = new Redis(server.url)
try {
  // The table's member layout: `<field length>:<field>`, the format byte, the msgpack row.
  const key = 'shape{t}:index'
  for (let first = 1; first <= ROWS; first += 1000) {
    const args: Array<number | Buffer> = []
    for (let id = first; id < first + 1000; id++) args.push(id, rowMember(id))
    await client.zadd(key, ...args)
  }
  const measure = async (name: string, read: (ge: number) => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await read(1 + i * 50)
    const perRead = await server.perCall(READS, (i) => read(1 + ((i * 7_919) % (ROWS - 200))))
    console.log(`| ${name} | ${Math.round(perRead)} |`)
  }
  console.log(`${READS} reads of 100 members each`)
  console.log('| reply | redis-server instructions per read |')
  console.log('| --- | ---: |')
  await measure('ZRANGEBYSCORE', (ge) => client.zrangebyscoreBuffer(key, ge, `(${ge + 100}`))
  for (const [name, lua] of Object.entries(scripts)) {
    const sha = (await client.script('LOAD', lua)) as string
    await measure(name, (ge) => client.callBuffer('EVALSHA', sha, 1, key, ge, `(${ge + 100}`))
  }
} finally {
  client.disconnect()
  await server.stop()
}
