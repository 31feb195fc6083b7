// Forked by multi-process.test.ts: takes one lock `rounds` times and logs enter/exit with the
// fencing token, so the parent can check that holders never overlap.
import { appendFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { KnexStore } from '../../src/index.js'
import { openKnex, type Target } from '../helpers.js'

const [targetJson, rounds, log, id] = process.argv.slice(2)
const target = JSON.parse(targetJson as string) as Target
const knex = openKnex(target)
const store = new KnexStore({ knex, prefix: 'mp:', pruneInterval: false })
for (let round = 0; round < Number(rounds); round++) {
  const lock = store.lock('shared', { ttl: 30_000, retryInterval: 5 })
  const token = await lock.block(60_000)
  appendFileSync(log as string, `enter ${id} ${token}\n`)
  await sleep(Math.random() * 2)
  appendFileSync(log as string, `exit ${id} ${token}\n`)
  await lock.release()
}
await store.close()
await knex.destroy()
