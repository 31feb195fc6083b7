// Forked by multi-process.test.ts: increments through its own MemcachedStore, then reports to
// the parent. argv: servers, prefix, key, count, mode:
// - 'up': `count` increments of `key`; 'mixed': alternating +3 / -1 of `key` (CAS path);
// - 'fresh' / 'fresh-ttl': one increment of each of `count` keys `<key>:<i>`, which the other
//   processes create at the same moment (without / with a TTL on create).
import { MemcachedStore } from '../../src/index.js'

const [servers, prefix, key, count, mode] = process.argv.slice(2)
// Many processes on a loaded machine: a slow answer must not turn into a failed increment.
const store = new MemcachedStore({
  servers: servers!,
  prefix: prefix!,
  timeout: '20s',
  connectTimeout: '20s',
})
const total = Number(count)
const CONCURRENCY = 8

const fresh = mode === 'fresh' || mode === 'fresh-ttl'
const options = mode === 'fresh-ttl' ? { ttl: '1h' } : {}
const target = (i: number) => (fresh ? `${key}:${i}` : key!)
const delta = (i: number) => (mode === 'mixed' ? (i % 2 === 0 ? 3 : -1) : 1)

try {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++
        await store.increment(target(i), delta(i), options)
      }
    }),
  )
  process.send?.({ done: total })
} catch (error) {
  process.send?.({ error: String(error) })
  process.exitCode = 1
} finally {
  await store.close()
}
