// redis-server instructions (load-independent) per 100-member range read, by reply shape: plain
// ZRANGEBYSCORE (100 reply elements) against Lua scripts that return the same members as one bulk
// string (see redis-reply-shape.ts for wall and client CPU), with the parts of a script's cost
// apart: an empty script, and a script that calls ZRANGE but returns only the count. One private
// redis-server under `valgrind --tool=callgrind`; per shape the counters are zeroed, the reads
// made, a dump taken, and an idle span of the same length (the server's timers) taken off.
// Usage: node --import tsx src/redis-shape-callgrind.ts [reads]
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { MsgpackSerializer } from '@cellar/core'
import { freePort, pingRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { row } from './redis-row.js'

const READS = Number(process.argv[2] ?? 200)
const ROWS = 20_000
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

const scripts: Record<string, string> = {
  'Lua: return 1 (a script call alone)': 'return 1',
  'Lua: ZRANGE, return the count': `return #redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE')`,
  'Lua: ZRANGE, table.concat': `return table.concat(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE'))`,
  'Lua: ZRANGE, struct.pack length + member, concat': `
local m = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE')
for i = 1, #m do m[i] = struct.pack('<I4', #m[i]) .. m[i] end
return table.concat(m)`,
}

const dir = mkdtempSync(join(tmpdir(), 'reply-shape-'))
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
  // The table's member layout: `<field length>:<field>`, the format byte, the msgpack row.
  const serializer = new MsgpackSerializer()
  const key = 'shape{t}:index'
  for (let first = 1; first <= ROWS; first += 1000) {
    const args: Array<number | Buffer> = []
    for (let id = first; id < first + 1000; id++) {
      const field = `1:${id}`
      const head = Buffer.from(`${field.length}:${field}\u00c7`, 'latin1')
      args.push(id, Buffer.concat([head, serializer.encode(row(id))]))
    }
    await client.zadd(key, ...args)
  }
  const measure = async (name: string, read: (ge: number) => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await read(1 + i * 50)
    const began = Date.now()
    await run('callgrind_control', ['-z', pid])
    for (let i = 0; i < READS; i++) await read(1 + ((i * 7_919) % (ROWS - 200)))
    const spent = Date.now() - began
    await run('callgrind_control', ['-d', pid])
    const busy = lastTotal(dir)
    await run('callgrind_control', ['-z', pid])
    await sleep(spent)
    await run('callgrind_control', ['-d', pid])
    const idle = lastTotal(dir)
    console.log(`| ${name} | ${Math.round((busy - idle) / READS)} |`)
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
  server.kill('SIGTERM')
  await new Promise((resolve) => server.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
}
