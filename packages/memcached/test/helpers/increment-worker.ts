// Forked by multi-process.test.ts: increments one counter through its own MemcachedStore, then
// reports to the parent. argv: servers, prefix, key, count, mode ('up' or 'mixed').
import { MemcachedStore } from '../../src/index.js'

const [servers, prefix, key, count, mode] = process.argv.slice(2)
const store = new MemcachedStore({ servers: servers!, prefix: prefix! })
const total = Number(count)
const CONCURRENCY = 8

try {
  let next = 0
  // 'mixed' alternates +3 and -1 so the compare-and-swap path races across processes too.
  const delta = (i: number) => (mode === 'mixed' ? (i % 2 === 0 ? 3 : -1) : 1)
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++
        await store.increment(key!, delta(i))
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
