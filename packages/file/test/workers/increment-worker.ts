// Forked by multi-process.test.ts: increments one counter `count` times on a shared directory.
import { FileStore } from '../../src/index.js'

const [directory, count] = process.argv.slice(2)
const store = new FileStore({ directory: directory!, pruneInterval: false })
for (let i = 0; i < Number(count); i++) await store.increment('counter')
await store.close()
