// Forked by multi-process.test.ts: increments one key `count` times through its own knex.
import { KnexStore } from '../../src/index.js'
import { openKnex, type Target } from '../helpers.js'

const [targetJson, count, journal] = process.argv.slice(2)
const target = JSON.parse(targetJson as string) as Target
const knex = openKnex(target, undefined, {}, journal === 'delete' ? 'delete' : 'wal')
const store = new KnexStore({ knex, prefix: 'mp:', pruneInterval: false })
for (let i = 0; i < Number(count); i++) await store.increment('counter')
await store.close()
await knex.destroy()
