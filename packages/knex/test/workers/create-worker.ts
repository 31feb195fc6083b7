// Forked by multi-process.test.ts: the first use of a store on tables nobody created yet, so
// that several processes race the lazy creation; reports whether its `add` won.
import { KnexStore } from '../../src/index.js'
import { openKnex, type Target } from '../helpers.js'

const [targetJson, tableName] = process.argv.slice(2)
const target = JSON.parse(targetJson as string) as Target
const knex = openKnex(target)
const store = new KnexStore({
  knex,
  tableName: `${tableName}_cache`,
  lockTableName: `${tableName}_locks`,
  pruneInterval: false,
})
const added = await store.add('first', new TextEncoder().encode(String(process.pid)))
const token = await store.lock('first').acquire()
process.send?.({ added, token })
await store.close()
await knex.destroy()
