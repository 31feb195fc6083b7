// Forked by multi-process.test.ts: once the parent says go, makes the first increment of each of
// `windows` fresh counters with a TTL, as every client of a rate limiter does when a window opens.
import { FileStore } from '../../src/index.js'

const [directory, windows] = process.argv.slice(2)
const store = new FileStore({ directory: directory!, pruneInterval: false })
await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send?.('ready')
})
for (let i = 0; i < Number(windows); i++) {
  await store.increment(`window:${i}`, 1, { ttl: '1h' })
  await store.increment('total', 1, { ttl: '1h' })
}
await store.close()
process.disconnect()
