import { type CacheEvent, CacheGateway, type StandardSchemaV1 } from '@cellar/core'
import { useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { type Instance, instances } from './helpers.js'

const redis = await useRedis()

// A Standard Schema written out by hand (no validator library in this package's tests): a
// user whose `age` arrives as a string and leaves as a number.
const user: StandardSchemaV1<unknown, { name: string; age: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      const v = value as { name?: unknown; age?: unknown }
      if (typeof v?.name !== 'string' || Number.isNaN(Number(v.age))) {
        return { issues: [{ message: 'not a user' }] }
      }
      return { value: { name: v.name, age: Number(v.age) } }
    },
  },
}

describe.skipIf(!redis)('TieredStore under the gateway: L1 hits read in-process', () => {
  let all: Instance[] = []
  afterEach(async () => {
    await Promise.all(all.map((instance) => instance.close()))
    all = []
  })

  test('an L1 hit is decoded into a fresh copy on every read, without reading L2', async () => {
    all = await instances(redis!.url, 1)
    const [a] = all as [Instance]
    const gateway = new CacheGateway(a.store, { prefix: 'app' })
    await gateway.setValue('u', { name: 'Ada', roles: ['admin'] }, '1m')
    expect(a.store.namespace('app').getLocal('u')).toBeInstanceOf(Uint8Array)
    const reads = a.l2Reads()
    const first = await gateway.getValue<{ name: string; roles: string[] }>('u')
    first!.roles.push('mutated by the caller')
    first!.name = 'changed'
    expect(await gateway.getValue('u')).toEqual({ name: 'Ada', roles: ['admin'] })
    expect(a.l2Reads()).toBe(reads)
  })

  test('schemas run on L1 hits: converted when valid, a miss and an E_SCHEMA event when not', async () => {
    all = await instances(redis!.url, 1)
    const [a] = all as [Instance]
    const events: CacheEvent[] = []
    const gateway = new CacheGateway(a.store, { onEvent: (event) => events.push(event) })
    await gateway.setValue('good', { name: 'Ada', age: '36' }, '1m')
    await gateway.setValue('bad', { title: 'not a user' }, '1m')
    const reads = a.l2Reads()
    expect(await gateway.getValue('good', { schema: user })).toEqual({ name: 'Ada', age: 36 })
    expect(await gateway.getValue('bad', { schema: user })).toBeUndefined()
    expect(a.l2Reads()).toBe(reads)
    expect(events.filter((e) => e.type === 'hit').map((e) => e.key)).toEqual(['good'])
    const failed = events.find((e) => e.type === 'error')
    expect(failed).toMatchObject({ key: 'bad', error: { code: 'E_SCHEMA' } })
  })

  test('a write on another instance: the next read misses L1 and fetches the new value', async () => {
    all = await instances(redis!.url, 2)
    const [a, b] = all as [Instance, Instance]
    const onA = new CacheGateway(a.store)
    const onB = new CacheGateway(b.store)
    const first = b.delivered()
    await onA.setValue('k', 'v1', '1m')
    await first // a read of B that overlaps A's message does not fill B's L1
    expect(await onB.getValue('k')).toBe('v1')
    expect(b.store.getLocal('k')).toBeDefined()
    const seen = b.delivered()
    await onA.setValue('k', 'v2', '1m')
    await seen
    expect(b.store.getLocal('k')).toBeUndefined()
    expect(await onB.getValue('k')).toBe('v2')
  })

  test('while the bus is down nothing is answered from L1; once it is back, L1 serves again', async () => {
    all = await instances(redis!.url, 1, `gw-down-${process.pid}-`)
    const [a] = all as [Instance]
    const gateway = new CacheGateway(a.store)
    await gateway.setValue('k', 'v', '1m')
    expect(a.store.getLocal('k')).toBeDefined()
    const down = new Promise<void>((resolve) => a.bus.onStatus((s) => s === 'down' && resolve()))
    const up = new Promise<void>((resolve) =>
      a.bus.onStatus((s) => s === 'up' && down.then(resolve)),
    )
    const admin = new Redis(redis!.url)
    const list = (await admin.client('LIST')) as string
    const subscriber = list
      .split('\n')
      .filter((line) => line.includes(` name=gw-down-${process.pid}-0-`))
      .filter((line) => / sub=[1-9]| ssub=[1-9]/.test(line))
      .map((line) => /^id=(\d+)/.exec(line)![1]!)
    expect(subscriber).toHaveLength(1)
    await admin.client('KILL', 'ID', subscriber[0]!)
    await admin.quit()
    await down
    const reads = a.l2Reads()
    expect(a.store.getLocal('k')).toBeUndefined()
    expect(await gateway.getValue('k')).toBe('v')
    expect(a.l2Reads()).toBe(reads + 1)
    await up
    expect(await gateway.getValue('k')).toBe('v') // refills L1
    const after = a.l2Reads()
    expect(a.store.getLocal('k')).toBeDefined()
    expect(await gateway.getValue('k')).toBe('v')
    expect(a.l2Reads()).toBe(after)
  })
})
