import { tracingChannel } from 'node:diagnostics_channel'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import {
  type CacheEvent,
  CacheGateway,
  NullStore,
  STORE_TRACING_CHANNEL,
  type StoreTraceContext,
} from '../src/index.js'
import { mapStore } from './map-store.js'

function recorded(gateway: CacheGateway): CacheEvent[] {
  const events: CacheEvent[] = []
  gateway.on((event) => events.push(event))
  return events
}

describe('gateway events', () => {
  test('every operation emits, with its operation name', async () => {
    const gateway = new CacheGateway(mapStore())
    const events = recorded(gateway)
    await gateway.setValue('a', 1)
    await gateway.getValue('a')
    await gateway.getValue('missing')
    await gateway.multiSetValues([['b', 2]])
    await gateway.multiGetValues(['a', 'nope'])
    await gateway.addValue('a', 3)
    await gateway.addValue('c', 3)
    await gateway.exists('a')
    await gateway.incr('n', 2)
    await gateway.decr('n')
    await gateway.touch('a', '1m')
    await gateway.delete('a')
    await gateway.deleteMany(['b', 'c'])
    await gateway.clear()
    expect(events.map((event) => `${event.operation}:${event.type}`)).toEqual([
      'set:write',
      'get:hit',
      'get:miss',
      'setMany:write',
      'getMany:hit',
      'getMany:miss',
      'add:hit',
      'add:write',
      'exists:hit',
      'increment:increment',
      'increment:increment',
      'touch:touch',
      'delete:delete',
      'deleteMany:delete',
      'clear:clear',
    ])
    expect(events[10]).toMatchObject({ type: 'increment', key: 'n', value: 1 })
    expect(events[13]).toMatchObject({ keys: ['b', 'c'], removed: 2 })
  })

  test('several listeners each get every event; a throwing one breaks nothing; off() stops one', async () => {
    const gateway = new CacheGateway(mapStore(), { onEvent: () => {} })
    const first = recorded(gateway)
    gateway.on(() => {
      throw new Error('listener bug')
    })
    const second: CacheEvent[] = []
    const off = gateway.on((event) => second.push(event))
    await gateway.setValue('k', 'v')
    off()
    await gateway.getValue('k')
    expect(first.map((event) => event.type)).toEqual(['write', 'hit'])
    expect(second.map((event) => event.type)).toEqual(['write'])
  })

  test('a schema failure is E_SCHEMA, distinct from undecodable bytes (E_SERIALIZATION)', async () => {
    const store = mapStore()
    const gateway = new CacheGateway(store)
    const events = recorded(gateway)
    await gateway.setValue('user', { id: 'x' })
    await store.set('junk', Uint8Array.of(0x01, 0x02))
    expect(await gateway.getValue('user', { schema: z.object({ id: z.number() }) })).toBeUndefined()
    expect(await gateway.getValue('junk')).toBeUndefined()
    const errors = events.filter((event) => event.type === 'error')
    expect(errors.map((event) => event.error.code)).toEqual(['E_SCHEMA', 'E_SERIALIZATION'])
  })

  test('store failures are reported once as error events and still reject', async () => {
    const store = new NullStore()
    const gateway = new CacheGateway(store)
    const events = recorded(gateway)
    await store.close()
    await expect(gateway.getValue('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(events).toMatchObject([{ type: 'error', operation: 'get', key: 'k' }])
  })
})

describe('tracing channel', () => {
  test('every store call is traced with operation, store and key while someone subscribes', async () => {
    const seen: string[] = []
    const channel = tracingChannel<unknown, StoreTraceContext>(STORE_TRACING_CHANNEL)
    const handlers = {
      start: (context: StoreTraceContext) => seen.push(`start ${context.operation} ${context.key}`),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (context: StoreTraceContext) => seen.push(`end ${context.operation}`),
      error: (context: StoreTraceContext) => seen.push(`error ${String(context.error)}`),
    }
    channel.subscribe(handlers)
    try {
      const gateway = new CacheGateway(mapStore())
      await gateway.setValue('k', 1)
      await gateway.getValue('k')
      await gateway.multiGetValues(['k'])
    } finally {
      channel.unsubscribe(handlers)
    }
    expect(seen).toEqual([
      'start set k',
      'end set',
      'start get k',
      'end get',
      'start getMany undefined',
      'end getMany',
    ])
  })
})

describe('tracing every gateway store call', () => {
  function subscribed(): { seen: string[]; stop: () => void } {
    const seen: string[] = []
    const channel = tracingChannel<unknown, StoreTraceContext>(STORE_TRACING_CHANNEL)
    const about = (context: StoreTraceContext) =>
      `${context.operation} ${context.store} ${context.key ?? context.keys?.join(',')}`
    const handlers = {
      start: (context: StoreTraceContext) => seen.push(`start ${about(context)}`),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (context: StoreTraceContext) => seen.push(`end ${about(context)}`),
      error: (context: StoreTraceContext) =>
        seen.push(`error ${about(context)} ${(context.error as { code?: string }).code}`),
    }
    channel.subscribe(handlers)
    return { seen, stop: () => channel.unsubscribe(handlers) }
  }

  test('start and end name the operation, the store and the key(s) of every call', async () => {
    const { seen, stop } = subscribed()
    try {
      const gateway = new CacheGateway(mapStore())
      await gateway.setValue('k', 1)
      await gateway.getValue('k')
      await gateway.getEntry('k')
      await gateway.multiSetValues([['m', 2]])
      await gateway.multiGetValues(['k', 'm'])
      await gateway.addValue('a', 1)
      await gateway.exists('a')
      await gateway.incr('n', 2)
      await gateway.decr('n')
      await gateway.touch('a', '1m')
      await gateway.ttl('a')
      await gateway.delete('a')
      await gateway.deleteMany(['m'])
      await gateway.clear()
    } finally {
      stop()
    }
    const calls = [
      'set map k',
      'get map k',
      'get map k',
      'setMany map m',
      'getMany map k,m',
      'add map a',
      'exists map a',
      'increment map n',
      'increment map n',
      'touch map a',
      'ttl map a',
      'delete map a',
      'deleteMany map m',
      'clear map undefined',
    ]
    expect(seen).toEqual(calls.flatMap((call) => [`start ${call}`, `end ${call}`]))
  })

  test('a failing store call publishes error with the key, the store and the cellar error', async () => {
    const store = new NullStore()
    const gateway = new CacheGateway(store)
    await store.close()
    const { seen, stop } = subscribed()
    try {
      await expect(gateway.getValue('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      await expect(gateway.incr('n')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    } finally {
      stop()
    }
    expect(seen).toEqual([
      'start get null k',
      'error get null k E_STORE_CLOSED',
      'end get null k',
      'start increment null n',
      'error increment null n E_STORE_CLOSED',
      'end increment null n',
    ])
  })

  test('with no subscriber and no listener, setValue hands back the store’s own promise', () => {
    const store = mapStore()
    const pending = Promise.resolve()
    const gateway = new CacheGateway({ ...store, set: () => pending })
    expect(gateway.setValue('k', 1)).toBe(pending)
  })
})

describe('closing', () => {
  test('a gateway with a prefix closes the store it was built on', async () => {
    const root = new NullStore()
    const gateway = new CacheGateway(root, { prefix: 'app' })
    await gateway.close()
    await expect(root.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(gateway.getValue('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('closing a namespace releases nothing shared; closing the root closes its namespaces', async () => {
    const root = new NullStore()
    const users = root.namespace('users')
    const posts = root.namespace('posts')
    await users.close()
    await expect(users.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(posts.get('k')).resolves.toBeUndefined()
    await root.close()
    await expect(posts.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })
})
