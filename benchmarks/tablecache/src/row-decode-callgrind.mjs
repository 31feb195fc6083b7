// Client instructions to decode the rows of a 100-record range read alone (no Redis, no reply
// decoder), for one build of packages/redis/src/storage-table-codec.ts: 100 index members as the
// table writes them, handed out as fresh subarrays of one buffer each time (as ioredis does),
// each split at its field and decoded by StorageRowCodec.decodeAt. Run under callgrind, which the
// script drives on itself (counters zeroed before a block of 300 reads, dumped after); "base" is
// the same loop without the decode. Plain JavaScript, so valgrind does not run a TypeScript loader.
// Bundle a build's codec first (esbuild from the workspace), e.g. for the working tree:
//   esbuild packages/redis/src/storage-table-codec.ts --bundle --format=esm --platform=node \
//     --external:@cellar/core --outfile=packages/redis/.codec-bundles/now.mjs
// (a directory under packages/redis, so that @cellar/core resolves), then:
//   valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.out node --expose-gc \
//     src/row-decode-callgrind.mjs <dir> <bundle path>      (about 3 minutes)
import { execFileSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { lastTotal } from './callgrind-dump.mjs'

const [dir, bundle] = process.argv.slice(2)
if (dir === undefined || bundle === undefined)
  throw new Error('usage: … row-decode-callgrind.mjs <callgrind out dir> <codec bundle>')
const { StorageRowCodec, msgpackRowCodec } = await import(pathToFileURL(bundle).href)
const codec = new StorageRowCodec(msgpackRowCodec(), 'bench', 1 << 24)
// bench_orders rows as PostgreSQL returns them (see redis-row.ts).
const row = (id) => ({ id, ts: String(id * 10), amount: (id * 7919) % 1000, note: `order ${id}` })
const member = (id) => {
  const field = `1:${id}`
  return Buffer.concat([Buffer.from(`${field.length}:${field}`), codec.encode(String(id), row(id))])
}
const members = Array.from({ length: 100 }, (_, i) => member(1000 + i))
const all = Buffer.concat(members)
const offsets = []
for (let i = 0, at = 0; i < members.length; at += members[i].length, i++) offsets.push(at)
const fresh = () => members.map((m, i) => all.subarray(offsets[i], offsets[i] + m.length))
const rowStart = (m) => {
  const colon = m.indexOf(58)
  return colon + 1 + Number(m.toString('latin1', 0, colon))
}
const base = () => {
  let sum = 0
  for (const m of fresh()) sum += rowStart(m)
  return sum
}
const decode = () => {
  let sum = 0
  for (const m of fresh()) sum += codec.decodeAt(m, rowStart(m), 'row').amount
  return sum
}
for (let i = 0; i < 3000; i++) base() + decode()
const reads = 300
const counts = { base: [], decode: [] }
for (let round = 0; round < 3; round++) {
  for (const [name, read] of [
    ['base', base],
    ['decode', decode],
  ]) {
    globalThis.gc?.()
    execFileSync('callgrind_control', ['-z', String(process.pid)])
    for (let i = 0; i < reads; i++) read()
    execFileSync('callgrind_control', ['-d', String(process.pid)])
    counts[name].push(lastTotal(dir) / reads)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[1]
console.log(`${bundle}: member ${members[0].length} bytes`)
console.log(
  `base ${Math.round(median(counts.base))}, base + decode ${Math.round(median(counts.decode))}`,
)
console.log(
  `decoding 100 rows: ${Math.round(median(counts.decode) - median(counts.base))} instructions`,
)
