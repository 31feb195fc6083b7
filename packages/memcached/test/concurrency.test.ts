import { decodeCounter } from '@cellar/core'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { afterAll, describe, expect, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'

const memcached = await useMemcached()

const CONNECTIONS = 8
const KEYS = 2_000

// Issue 10 item 1: the connection that loses memcached's creation race used to get NOT_STORED
// and report E_BACKEND_UNAVAILABLE without applying its increment (1–10 of 16,000 lost a run).
describe.skipIf(!memcached)('MemcachedStore: concurrent first increments', () => {
  const stores: MemcachedStore[] = []
  /**
   * `CONNECTIONS` stores on one prefix, each with its own memjs client (own connection). 16,000
   * requests in flight on a loaded machine can take longer than memjs's 500 ms default to be
   * answered, and a timed-out increment may or may not have been applied: these tests are about
   * exactness, so the clients wait.
   */
  const connections = () => {
    const prefix = uniquePrefix('memcached-race')
    const opened = Array.from(
      { length: CONNECTIONS },
      () =>
        new MemcachedStore({
          servers: memcached!.servers,
          prefix,
          timeout: '20s',
          connectTimeout: '20s',
        }),
    )
    stores.push(...opened)
    return opened
  }
  afterAll(async () => {
    for (const store of stores) await store.close()
  })

  /** Every connection increments every fresh key once, all at the same time. */
  async function race(options: { ttl?: string; delta?: number; keys?: number } = {}) {
    const opened = connections()
    const delta = options.delta ?? 1
    const count = options.keys ?? KEYS
    const keys = Array.from({ length: count }, (_, i) => `fresh:${i}`)
    const settled = await Promise.allSettled(
      keys.flatMap((key) =>
        opened.map((store) =>
          store.increment(key, delta, options.ttl === undefined ? {} : { ttl: options.ttl }),
        ),
      ),
    )
    const failures = settled.filter((outcome) => outcome.status === 'rejected')
    const finals = await opened[0]!.getMany(keys)
    const exact = finals.filter((value) => decodeCounter(value) === CONNECTIONS * delta)
    // Per key, the resolved values are exactly delta, 2·delta … 8·delta: each applied once.
    const results = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 0))
    let distinct = 0
    for (let k = 0; k < count; k++) {
      const mine = results
        .slice(k * CONNECTIONS, (k + 1) * CONNECTIONS)
        .sort((a, b) => Math.abs(a) - Math.abs(b))
      if (mine.every((value, i) => value === (i + 1) * delta)) distinct++
    }
    return { failures: failures.length, exact: exact.length, distinct }
  }

  test('8 connections × 2,000 fresh keys: 16,000 increments, every one applied once', async () => {
    expect(await race()).toEqual({ failures: 0, exact: KEYS, distinct: KEYS })
  }, 120_000)

  // The load of a rate limiter at a new window: every client creates the same counter at once,
  // then all move on together. On a 2-core machine this lockstep makes the creation race far
  // likelier than the flood above (the old single INCR lost 21 and 36 of 16,000 in two of
  // three rounds; the flood, none in 80,000).
  test.each([
    ['without a TTL', {}],
    ['with a TTL on create', { ttl: '1h' }],
  ])(
    '8 connections create each of 2,000 counters at the same moment, in lockstep (%s): exact',
    async (_, options) => {
      const opened = connections()
      const keys = Array.from({ length: KEYS }, (_, i) => `step:${i}`)
      let exactRounds = 0
      for (const key of keys) {
        const values = await Promise.all(opened.map((store) => store.increment(key, 1, options)))
        if (values.sort((a, b) => a - b).every((value, i) => value === i + 1)) exactRounds++
      }
      expect(exactRounds).toBe(KEYS)
      const finals = await opened[0]!.getMany(keys)
      expect(finals.filter((value) => decodeCounter(value) === CONNECTIONS)).toHaveLength(KEYS)
    },
    120_000,
  )

  test('the same with a TTL on create (INCR miss, ADD, INCR again for the losers)', async () => {
    expect(await race({ ttl: '1h' })).toEqual({ failures: 0, exact: KEYS, distinct: KEYS })
    const ttl = await stores.at(-1)!.ttl('fresh:0')
    expect(ttl).toBeGreaterThan(3_500_000)
  }, 120_000)

  test('8 connections × 500 fresh keys, negative deltas (compare-and-swap, create by ADD)', async () => {
    expect(await race({ delta: -1, keys: 500 })).toEqual({ failures: 0, exact: 500, distinct: 500 })
  }, 120_000)

  test('8 connections clearing a store that was never cleared: every clear succeeds', async () => {
    const opened = connections()
    await opened[0]!.set('k', new TextEncoder().encode('v'))
    const namespaces = opened.map((store) => store.namespace('fresh'))
    const settled = await Promise.allSettled([
      ...opened.map((store) => store.clear()),
      ...namespaces.map((store) => store.clear()),
    ])
    expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([])
    expect(await opened[0]!.get('k')).toBeUndefined()
  }, 60_000)
})
