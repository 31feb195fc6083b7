// Run by cross-process.test.ts in a forked Node process (with tsx), importing the store from source.
import { appendFileSync } from 'node:fs'
import { setImmediate as tick } from 'node:timers/promises'
import { RedisStore } from '../../src/index.js'

const [url, prefix, log, increments, rounds] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const store = new RedisStore({ connection: url, prefix })

// Increments run 25 at a time so several are in flight from each process at once.
const total = Number(increments)
for (let done = 0; done < total; done += 25) {
  const batch = Math.min(25, total - done)
  await Promise.all(Array.from({ length: batch }, () => store.increment('total')))
}

for (let round = 0; round < Number(rounds); round++) {
  const lock = store.lock('shared', { ttl: 30_000, retryInterval: 2 })
  const token = await lock.block(60_000)
  appendFileSync(log, `acquire ${process.pid} ${token}\n`)
  // Give the other processes a chance to (wrongly) get in while the lock is held.
  await tick()
  await store.get('total')
  appendFileSync(log, `release ${process.pid} ${token}\n`)
  await lock.release()
}

await store.close()
