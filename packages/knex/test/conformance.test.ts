import { describeLock, describeStore } from '@cellar/conformance'
import { useMysql, usePostgres } from '@cellar/test-servers'
import type { Knex } from 'knex'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import { openKnex, randomPrefix, removeTempDirs, type Target, tempDir } from './helpers.js'

const runner = { describe, test, beforeEach, afterEach, beforeAll, afterAll }
const pg = await usePostgres()
const mysql = await useMysql()

const sqliteFile = `${tempDir('conf')}/cache.db`
const targets: Array<{
  name: string
  target: Target | undefined
  shared: boolean
  prepared: boolean
}> = [
  {
    name: 'SQLite file',
    target: { kind: 'sqlite', filename: sqliteFile },
    shared: true,
    prepared: false,
  },
  {
    name: 'SQLite :memory:',
    target: { kind: 'sqlite', filename: ':memory:' },
    shared: false,
    prepared: false,
  },
  { name: 'PostgreSQL', target: pg && { kind: 'pg', database: pg }, shared: true, prepared: false },
  {
    name: 'MariaDB',
    target: mysql && { kind: 'mysql', database: mysql },
    shared: true,
    prepared: false,
  },
  // The same contract through the prepared-statement fast path.
  {
    name: 'SQLite file, prepared',
    target: { kind: 'sqlite', filename: sqliteFile },
    shared: true,
    prepared: true,
  },
  {
    name: 'PostgreSQL, prepared',
    target: pg && { kind: 'pg', database: pg },
    shared: true,
    prepared: true,
  },
  {
    name: 'MariaDB, prepared',
    target: mysql && { kind: 'mysql', database: mysql },
    shared: true,
    prepared: true,
  },
]

const opened: Knex[] = []
afterAll(async () => {
  await Promise.all(opened.splice(0).map((knex) => knex.destroy()))
  await Promise.all([pg?.dispose(), mysql?.dispose()])
  removeTempDirs()
})

for (const { name, target, shared, prepared } of targets) {
  describe.skipIf(target === undefined)(`KnexStore on ${name}`, () => {
    if (target === undefined) return
    // One knex per dialect for the file, as an application has; a second, separate instance
    // (own pool, own connections) plays the other process in the cross-client tests.
    const knex = openKnex(target)
    const other = shared ? openKnex(target) : knex
    opened.push(knex, ...(shared ? [other] : []))
    const factory = () =>
      new KnexStore({
        knex,
        prefix: randomPrefix(target.kind),
        pruneInterval: false,
        preparedStatements: prepared,
      })
    const sibling = (store: unknown) =>
      new KnexStore({
        knex: other,
        prefix: (store as KnexStore).prefix,
        pruneInterval: false,
        preparedStatements: prepared,
      })
    describeStore(runner, factory, { name: `KnexStore (${name})`, sibling })
    describeLock(runner, factory, { name: `KnexStore locks (${name})`, sibling })
  })
}
