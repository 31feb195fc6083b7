import { fileURLToPath } from 'node:url'
import {
  describeExpiryBoundary,
  describeLock,
  describeStore,
  type ExitCheck,
  type FaultHook,
} from '@cellar/conformance'
import { useMysql, usePostgres } from '@cellar/test-servers'
import type { Knex } from 'knex'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import {
  knexConfig,
  openKnex,
  randomPrefix,
  removeTempDirs,
  type Target,
  tempDir,
} from './helpers.js'
import { TcpProxy } from './tcp-proxy.js'

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
const proxies: Array<Promise<TcpProxy>> = []
afterAll(async () => {
  for (const proxy of proxies.splice(0)) await (await proxy).stop()
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
    const sibling = (store: KnexStore) =>
      new KnexStore({
        knex: other,
        prefix: store.prefix,
        pruneInterval: false,
        preparedStatements: prepared,
      })
    const checks = prepared ? {} : { faults: proxyFaults(target), exit: exitCheck(target) }
    describeStore(runner, factory, { name: `KnexStore (${name})`, sibling, ...checks })
    describeLock(runner, factory, { name: `KnexStore locks (${name})`, sibling })
    // The expiry boundary with a clock the test moves (the only clock the store consults).
    describeExpiryBoundary(
      runner,
      (now) =>
        new KnexStore({
          knex,
          prefix: randomPrefix(target.kind),
          pruneInterval: false,
          preparedStatements: prepared,
          now,
        }),
      { name: `KnexStore (${name}, injected clock)` },
    )
  })
}

/**
 * The conformance faults hook for a database server: stores that build their own knex (with
 * the store's defaults) through a TCP proxy, which `stop()` closes and `start()` reopens.
 */
function proxyFaults(target: Target): FaultHook | undefined {
  if (target.kind === 'sqlite') return undefined
  const { host, port } = target.database.connection
  let proxy: Promise<TcpProxy> | undefined
  const opened = () => {
    if (proxy === undefined) {
      proxy = TcpProxy.open({ host, port })
      proxies.push(proxy)
    }
    return proxy
  }
  return {
    factory: async () => {
      const config = knexConfig(target)
      const connection = { ...target.database.connection, port: (await opened()).port }
      return new KnexStore({
        knex: { ...config, connection },
        prefix: randomPrefix(`${target.kind}-faults`),
        pruneInterval: false,
      })
    },
    stop: async () => (await opened()).stop(),
    start: async () => (await opened()).start(),
  }
}

/** The conformance exit check: a child builds a KnexStore from the target's knex config. */
function exitCheck(target: Target): ExitCheck | undefined {
  if (target.kind === 'sqlite' && target.filename === ':memory:') return undefined
  return {
    module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: { CELLAR_EXIT_KNEX: JSON.stringify(knexConfig(target)) },
  }
}
