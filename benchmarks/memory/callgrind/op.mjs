// One operation in a loop, for callgrind: `node op.mjs <checkout root> <op> <warm-up> <count>`.
// run.sh runs it twice (two counts) and divides the difference of the instruction totals by the
// difference of the counts, so start-up and warm-up cancel out. Plain JavaScript on the built
// packages: no loader thread, nothing compiled at run time but the operation itself.
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [root, op, warmText, countText] = process.argv.slice(2)
const { CacheGateway } = await import(join(root, 'packages/core/dist/index.js'))
const { MemoryStore } = await import(join(root, 'packages/memory/dist/index.js'))
const require = createRequire(join(root, 'packages/memory/package.json'))
const { LRUCache } = await import(require.resolve('lru-cache'))

const TTL = 3_600_000
const VALUE = { id: 48_213, sku: 'SKU-0048213-BLK', tags: ['coffee', 'beans'], active: true }
// A second object of the same shape: writes that alternate between the two replace the stored
// value (lru-cache takes a shorter path when a write stores the very object already there).
const OTHER = { id: 48_214, sku: 'SKU-0048214-BLK', tags: ['coffee', 'beans'], active: true }
const KEYS = Array.from({ length: 1024 }, (_, i) => `p:${i}`)
let at = 0
const next = () => {
  at = (at + 1) & 1023
  return KEYS[at]
}

const store = new MemoryStore({ raw: true, maxEntries: 10_000 })
const gateway = new CacheGateway(store)
// Byte mode (the default): values serialized, copied in and out. Only for its own ops, so that
// the raw ops' feedback stays as it was.
const bytes = op.startsWith('bytes')
  ? new CacheGateway(new MemoryStore({ maxEntries: 10_000 }))
  : undefined
const lru = new LRUCache({ max: 10_000, ttl: TTL })
const settled = Promise.resolve()
for (const key of KEYS) {
  gateway.setValueSync(key, VALUE, TTL)
  bytes?.setValueSync(key, VALUE, TTL)
  lru.set(key, VALUE)
}
let sink

// Every operation awaited the way mitata's loop awaits a promise API: one `await` per call.
const ops = {
  getValueSync: async (n) => {
    for (let i = 0; i < n; i++) sink = gateway.getValueSync(next())
  },
  setValueSync: async (n) => {
    for (let i = 0; i < n; i++) gateway.setValueSync(next(), VALUE, TTL)
  },
  getValue: async (n) => {
    for (let i = 0; i < n; i++) sink = await gateway.getValue(next())
  },
  setValue: async (n) => {
    for (let i = 0; i < n; i++) await gateway.setValue(next(), VALUE, TTL)
  },
  // Each pass over the keys writes the other object: every write replaces the stored value.
  setValueReplace: async (n) => {
    for (let i = 0; i < n; i++) await gateway.setValue(next(), i & 1024 ? VALUE : OTHER, TTL)
  },
  // A write then one awaited read of the same key: an entry read once before it is replaced.
  setValueGetValue: async (n) => {
    for (let i = 0; i < n; i++) {
      const key = next()
      gateway.setValueSync(key, i & 1024 ? VALUE : OTHER, TTL)
      sink = await gateway.getValue(key)
    }
  },
  bytesGetValueSync: async (n) => {
    for (let i = 0; i < n; i++) sink = bytes.getValueSync(next())
  },
  bytesGetValue: async (n) => {
    for (let i = 0; i < n; i++) sink = await bytes.getValue(next())
  },
  storeGet: async (n) => {
    for (let i = 0; i < n; i++) sink = await store.get(next())
  },
  storeSet: async (n) => {
    for (let i = 0; i < n; i++) await store.set(next(), VALUE, TTL)
  },
  lruGet: async (n) => {
    for (let i = 0; i < n; i++) sink = lru.get(next())
  },
  lruSet: async (n) => {
    for (let i = 0; i < n; i++) lru.set(next(), VALUE)
  },
  // The floors of the bench's table: lookup + Promise.resolve(value), set + a shared settled one.
  lruGetResolved: async (n) => {
    for (let i = 0; i < n; i++) sink = await Promise.resolve(lru.get(next()))
  },
  lruGetSettled: async (n) => {
    for (let i = 0; i < n; i++) {
      sink = lru.get(next())
      await settled
    }
  },
  lruSetSettled: async (n) => {
    for (let i = 0; i < n; i++) {
      lru.set(next(), VALUE)
      await settled
    }
  },
}

const run = ops[op]
if (run === undefined) throw new Error(`unknown op ${op}; one of ${Object.keys(ops).join(', ')}`)
await run(Number(warmText))
await run(Number(countText))
if (sink === 42) console.log(sink)
