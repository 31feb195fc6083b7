import { describeLock, describeStore } from '@cellar/conformance'
import { uniquePrefix } from '@cellar/test-servers'
import calculateSlot from 'cluster-key-slot'
import { Cluster } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'
import {
  canStartRedisCluster,
  type RedisClusterServer,
  startRedisCluster,
} from './helpers/cluster.js'

const available = canStartRedisCluster()
const runner = { describe, test, beforeEach, afterEach, beforeAll, afterAll }
// Declared up front so the suite does not build a probe store before the cluster is up.
const capabilities = {
  atomicCounters: true,
  atomicAdd: true,
  locks: true,
  sharedAcrossProcesses: true,
  retainsValues: true,
  raw: false,
  maxKeyLength: Number.POSITIVE_INFINITY,
  maxValueSize: 512 * 1024 * 1024,
  ttlPrecision: 1,
  readsTtl: true,
  listsKeys: true,
  evicts: false,
}
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

describe.skipIf(!available)('RedisStore on a 3-master Redis Cluster', () => {
  let server: RedisClusterServer
  let cluster: Cluster
  const stores: RedisStore[] = []
  const siblings: Cluster[] = []
  const lockPrefix = uniquePrefix('redis-cluster-locks')
  const open = () => {
    const store = new RedisStore({ connection: cluster, prefix: uniquePrefix('redis-cluster') })
    stores.push(store)
    return store
  }
  /** Keys whose slots are served by every master. */
  const spread = (store: RedisStore, count: number) => {
    const keys = Array.from({ length: count }, (_, i) => `key-${i}`)
    const masters = new Set(keys.map((key) => cluster.slots[calculateSlot(store.prefix + key)]![0]))
    expect(masters.size).toBe(3)
    return keys
  }

  beforeAll(async () => {
    server = await startRedisCluster(3)
    cluster = new Cluster([...server.nodes])
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve())
      cluster.once('error', reject)
    })
  }, 60_000)
  afterAll(async () => {
    for (const store of stores) await store.close()
    for (const sibling of siblings) await sibling.quit()
    await cluster?.quit()
    await server?.stop()
  })

  describe('conformance over an ioredis Cluster', () => {
    const options = {
      name: 'redis cluster',
      ...capabilities,
      sibling: (store: RedisStore) => {
        const other = new Cluster([...server.nodes])
        siblings.push(other)
        return new RedisStore({ connection: other, prefix: store.prefix, lockPrefix })
      },
    }
    const factory = () =>
      new RedisStore({ connection: cluster, prefix: uniquePrefix('redis-cluster'), lockPrefix })
    describeStore(runner, factory, options)
    describeLock(runner, factory, options)
  })

  test('getMany / setMany / deleteMany over keys on every master', async () => {
    const store = open()
    const keys = spread(store, 60)
    await store.setMany(
      keys.map((key) => [key, bytes(key)] as const),
      60_000,
    )
    const request = [...keys].reverse().concat(['missing'])
    const values = await store.getMany(request)
    expect(values.map(text)).toEqual([...[...keys].reverse(), undefined])
    expect(await cluster.pttl(`${store.prefix}${keys[0]}`)).toBeGreaterThan(0)

    await store.setMany([[keys[1]!, bytes('forever')]], null)
    expect(await cluster.pttl(`${store.prefix}${keys[1]}`)).toBe(-1)

    expect(await store.deleteMany([...keys.slice(0, 30), 'missing'])).toBe(30)
    expect((await store.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(30)
    await store.setMany([[keys[40]!, bytes('x')]], 0)
    expect(await store.has(keys[40]!)).toBe(false)
  })

  test('clear SCANs every master and leaves other prefixes alone', async () => {
    const store = open()
    const other = open()
    const keys = spread(store, 300)
    await store.setMany(keys.map((key) => [key, bytes('v')] as const))
    await other.set('keep', bytes('other'))
    const lock = store.lock('job')
    await lock.acquire()
    await store.clear()
    expect((await store.getMany(keys)).every((v) => v === undefined)).toBe(true)
    for (const node of cluster.nodes('master')) {
      const [, found] = await node.scan('0', 'MATCH', `${store.prefix}*`, 'COUNT', 10_000)
      expect(found).toEqual([])
    }
    expect(text(await other.get('keep'))).toBe('other')
    expect(await lock.isOwned()).toBe(true)
    await lock.release()
  })

  test('single-key operations, counters and locks route to the right node', async () => {
    const store = open()
    for (const key of spread(store, 30)) {
      expect(await store.add(key, bytes('1'), 60_000)).toBe(true)
      expect(await store.increment(key, 2)).toBe(3)
      expect(await store.delete(key)).toBe(true)
    }
    const tokens: number[] = []
    for (let i = 0; i < 3; i++) {
      const lock = store.lock(`job-${i}`)
      tokens.push((await lock.acquire()) as number)
      expect(await store.lock(`job-${i}`).acquire()).toBe(false)
      await lock.release()
    }
    expect(tokens.every((token) => token > 0)).toBe(true)
  })
})
