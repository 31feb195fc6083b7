import { createCache } from '@cellar/cache'
import { useRedis } from '@cellar/test-servers'
import { afterEach, describe, expect, test } from 'vitest'
import { type Instance, instances } from './helpers.js'

const redis = await useRedis()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

// Each instance's L2 and bus on separate connections (the message waits for the write's
// acknowledgement), or on one shared client (the message follows the write on it at once).
for (const shared of [false, true]) {
  describe.skipIf(!redis)(
    `TieredStore: two instances over Redis (${shared ? 'L2 and bus on one client' : 'separate connections'})`,
    () => {
      let all: Instance[] = []
      afterEach(async () => {
        await Promise.all(all.map((instance) => instance.close()))
        all = []
      })

      test('a write on A drops the key from B’s L1; A ignores its own message and keeps its copy', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        let seen = b.delivered()
        await a.store.set('k', bytes('v1'), '1m')
        await seen
        expect(text(await b.store.get('k'))).toBe('v1') // fills B's L1
        const readsB = b.l2Reads()
        expect(text(await b.store.get('k'))).toBe('v1')
        expect(b.l2Reads()).toBe(readsB) // served from L1
        seen = b.delivered()
        await a.store.set('k', bytes('v2'), '1m')
        await seen
        expect(text(await b.store.get('k'))).toBe('v2')
        // A's own write stays in A's L1: its message came back to A and was ignored.
        const readsA = a.l2Reads()
        const ownMessage = a.delivered()
        await a.store.set('k', bytes('v3'), '1m')
        await ownMessage
        expect(text(await a.store.get('k'))).toBe('v3')
        expect(a.l2Reads()).toBe(readsA)
      })

      test('a write or delete that L2 refuses sends no message', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        const before = b.received()
        await expect(a.store.set('k', bytes('v'), Number.NaN)).rejects.toMatchObject({
          code: 'E_INVALID_ARGUMENT',
        })
        await expect(a.store.set('', bytes('v'), '1m')).rejects.toMatchObject({
          code: 'E_INVALID_KEY',
        })
        await expect(a.store.set('k', 'text' as never, '1m')).rejects.toMatchObject({
          code: 'E_INVALID_ARGUMENT',
        })
        await expect(a.store.delete('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
        await expect(a.store.deleteMany(['ok', ''])).rejects.toMatchObject({
          code: 'E_INVALID_KEY',
        })
        // A message published after the refused calls arrives after any they had sent.
        const seen = b.delivered()
        await a.store.set('k', bytes('v'), '1m')
        await seen
        expect(b.received()).toBe(before + 1)
      })

      test('delete, touch and clear on A reach B’s L1', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        await a.store.setMany(
          [
            ['x', bytes('1')],
            ['y', bytes('2')],
            ['z', bytes('3')],
          ].map(([k, v]) => [k as string, bytes(`v${text(v as Uint8Array)}`)] as const),
          '1m',
        )
        expect((await Promise.all(['x', 'y', 'z'].map((k) => b.store.get(k)))).map(text)).toEqual([
          'v1',
          'v2',
          'v3',
        ])
        let seen = b.delivered()
        expect(await a.store.delete('x')).toBe(true)
        await seen
        expect(await b.store.get('x')).toBeUndefined()
        seen = b.delivered()
        expect(await a.store.touch('y', 0)).toBe(true)
        await seen
        expect(await b.store.has('y')).toBe(false)
        seen = b.delivered()
        await a.store.clear()
        await seen
        expect(await b.store.get('z')).toBeUndefined()
      })

      test('a namespace is invalidated on the other instance too', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        const nsA = a.store.namespace('tenant')
        const nsB = b.store.namespace('tenant')
        await nsA.set('k', bytes('old'), '1m')
        expect(text(await nsB.get('k'))).toBe('old')
        const seen = b.delivered()
        await nsA.set('k', bytes('new'), '1m')
        await seen
        expect(text(await nsB.get('k'))).toBe('new')
      })

      test('counters are never kept in L1: every read of one goes to L2', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        expect(await a.store.increment('n', 5, { ttl: '1m' })).toBe(5)
        expect(text(await b.store.get('n'))).toBe('5')
        expect(await b.l1.has('n')).toBe(false)
        expect(await a.store.increment('n')).toBe(6)
        expect(text(await b.store.get('n'))).toBe('6')
        expect(await a.l1.has('n')).toBe(false)
      })

      test('tags through the facade: a flush on A is seen on B', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        const cacheA = createCache({ default: 't', stores: { t: a.store } })
        const cacheB = createCache({ default: 't', stores: { t: b.store } })
        await cacheA.tags('users').put('u:1', { name: 'Ada' }, '1m')
        expect(await cacheB.tags('users').get('u:1')).toEqual({ name: 'Ada' })
        await cacheA.tags('users').flush()
        expect(await cacheB.tags('users').get('u:1')).toBeUndefined()
      })

      test('an L1 entry never outlives the L2 entry it copies', async () => {
        all = await instances(redis!.url, 2, '', shared)
        const [a, b] = all as [Instance, Instance]
        const seen = b.delivered()
        await a.store.set('short', bytes('v'), 200)
        await seen
        expect(text(await b.store.get('short'))).toBe('v')
        const remaining = await b.l1.ttl('short')
        expect(remaining).toBeLessThanOrEqual(200)
        expect(remaining).toBeGreaterThan(0)
      })
    },
  )
}

describe.skipIf(!redis)('TieredStore: rate limits are decided by L2', () => {
  let all: Instance[] = []
  afterEach(async () => {
    await Promise.all(all.map((instance) => instance.close()))
    all = []
  })

  test('two instances share one limit: 3 allowed in total, whichever instance asks', async () => {
    all = await instances(redis!.url, 2)
    const [a, b] = all as [Instance, Instance]
    expect(a.store.capabilities.rateLimits).toBe(true)
    const request = {
      limit: 3,
      windowMs: 60_000,
      points: 1,
      force: false,
      aligned: false,
      blockMs: 0,
    }
    const decisions = await Promise.all(
      [a, b, a, b, a, b].map((instance) =>
        instance.store.rateLimiter().fixedWindow('login', request),
      ),
    )
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3)
    expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterMs > 0)).toBe(true)
    await a.store.rateLimiter().reset('login')
    expect((await b.store.rateLimiter().fixedWindow('login', request)).allowed).toBe(true)
  })
})
