// Forked by multi-process.test.ts: takes one lock `rounds` times and logs each critical section.
import { appendFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { FileStore } from '../../src/index.js'

const [directory, rounds, log, id] = process.argv.slice(2)
const store = new FileStore({ directory: directory!, pruneInterval: false })
for (let i = 0; i < Number(rounds); i++) {
  await store.lock('shared', { ttl: '30s', retryInterval: 2 }).run(async (token) => {
    appendFileSync(log!, `enter ${id} ${token}\n`)
    // Yield inside the critical section so an intruder would have a chance to interleave.
    await sleep(Math.random() < 0.5 ? 0 : 1)
    appendFileSync(log!, `exit ${id} ${token}\n`)
  }, '60s')
}
await store.close()
