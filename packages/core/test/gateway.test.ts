import * as v from 'valibot'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import {
  type CacheEvent,
  CacheGateway,
  JsonSerializer,
  NullStore,
  SERIALIZED_TAG,
  UnsupportedError,
} from '../src/index.js'
import { mapStore } from './map-store.js'

describe('CacheGateway', () => {
  test('round-trips values through msgpack with a tag byte', async () => {
    const store = mapStore()
    const gateway = new CacheGateway(store)
    const value = { id: 1, name: 'Zoë', tags: ['a', 'b'], when: new Date(0), nested: { ok: true } }
    await gateway.setValue('k', value)
    expect((await store.get('k'))?.[0]).toBe(SERIALIZED_TAG)
    expect(await gateway.getValue('k')).toEqual(value)
  })

  test('null, false, 0 and the empty string are hits', async () => {
    const gateway = new CacheGateway(mapStore())
    for (const value of [null, false, 0, '']) {
      await gateway.setValue('k', value)
      expect(await gateway.getValue('k')).toBe(value)
    }
  })

  test('counters written by incr read back as numbers, and integers written stay incrementable', async () => {
    const store = mapStore()
    const gateway = new CacheGateway(store)
    expect(await gateway.incr('hits', 5)).toBe(5)
    expect(await gateway.getValue('hits')).toBe(5)
    await gateway.setValue('n', 41)
    expect(new TextDecoder().decode(await store.get('n'))).toBe('41')
    expect(await gateway.incr('n')).toBe(42)
    expect(await gateway.decr('n', 2)).toBe(40)
  })

  test('a value that fails its schema is a miss plus an error event', async () => {
    const events: CacheEvent[] = []
    const gateway = new CacheGateway(mapStore(), { onEvent: (event) => events.push(event) })
    await gateway.setValue('user', { id: '7' })
    const schema = z.object({ id: z.coerce.number() })
    expect(await gateway.getValue('user', { schema })).toEqual({ id: 7 })
    const strict = v.object({ id: v.number() })
    expect(await gateway.getValue('user', { schema: strict })).toBeUndefined()
    expect(events.map((event) => event.type)).toEqual(['write', 'hit', 'error'])
    expect(events[2]).toMatchObject({ key: 'user', error: { code: 'E_SCHEMA' } })
  })

  test('undecodable bytes are a miss plus an error event, never a crash', async () => {
    const events: CacheEvent[] = []
    const store = mapStore()
    const gateway = new CacheGateway(store, { onEvent: (event) => events.push(event) })
    await store.set('bad', new Uint8Array([SERIALIZED_TAG, 0xc1, 0xc1]))
    await store.set('foreign', new TextEncoder().encode('hello'))
    expect(await gateway.multiGetValues(['bad', 'foreign', 'missing'])).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(events.map((event) => event.type)).toEqual(['error', 'error', 'miss'])
  })

  test('refuses undefined and unencodable values with typed errors, writing nothing', async () => {
    const store = mapStore()
    const gateway = new CacheGateway(store, { serializer: new JsonSerializer() })
    await expect(gateway.setValue('k', undefined)).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
      key: 'k',
    })
    await expect(
      gateway.multiSetValues([
        ['a', 1],
        ['b', () => 1],
      ]),
    ).rejects.toMatchObject({ code: 'E_SERIALIZATION', key: 'b' })
    expect(await store.has('a')).toBe(false)
  })

  test('the JSON serializer plugs in', async () => {
    const gateway = new CacheGateway(mapStore(), { serializer: new JsonSerializer() })
    await gateway.setValue('k', { a: [1, 'two'] })
    expect(await gateway.getValue('k')).toEqual({ a: [1, 'two'] })
  })

  test('locks on a store without them fail with E_UNSUPPORTED', () => {
    expect(() => new CacheGateway(new NullStore()).lock('job')).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED' }),
    )
  })
})

describe('shared encode buffers', () => {
  test('every write keeps its own bytes although the serializer reuses its buffer', async () => {
    const store = mapStore()
    const gateway = new CacheGateway(store)
    await gateway.multiSetValues([
      ['a', { text: 'first' }],
      ['b', { text: 'second, longer' }],
    ])
    await gateway.setValue('c', 'third')
    expect(await gateway.multiGetValues(['a', 'b', 'c'])).toEqual([
      { text: 'first' },
      { text: 'second, longer' },
      'third',
    ])
  })
})

describe('a store that throws instead of rejecting', () => {
  test('gateway methods still return rejected promises', async () => {
    const store = mapStore()
    const boom = () => {
      throw new Error('sync failure')
    }
    const broken = { ...store, get: boom, has: boom, getMany: boom, set: boom }
    const gateway = new CacheGateway(broken as typeof store)
    await expect(gateway.getValue('k')).rejects.toThrow('sync failure')
    await expect(gateway.setValue('k', 1)).rejects.toThrow('sync failure')
    await expect(gateway.exists('k')).rejects.toThrow('sync failure')
    await expect(gateway.multiGetValues(['k'])).rejects.toThrow('sync failure')
  })
})

/** `mapStore` declaring synchronous reads (and writes, unless `writes` is false). */
function syncMapStore(writes = true) {
  const store = mapStore()
  const map = new Map<string, Uint8Array>()
  return {
    ...store,
    capabilities: { ...store.capabilities, synchronous: true },
    get: async (key: string) => map.get(key),
    set: async (key: string, value: Uint8Array) => {
      map.set(key, value)
    },
    getSync: (key: string) => map.get(key),
    ...(writes && {
      setSync: (key: string, value: Uint8Array) => {
        if (key === 'refused') throw new UnsupportedError('[test] refused', { key })
        map.set(key, value)
      },
    }),
  }
}

describe('synchronous stores', () => {
  const schema = z.number()
  // What a listener sees for: a hit, a miss, a schema failure, a write.
  async function observe(gateway: CacheGateway, events: CacheEvent[]) {
    await gateway.setValue('n', 1)
    await gateway.setValue('s', 'text')
    events.length = 0
    const read = [
      await gateway.getValue('n'),
      await gateway.getValue('missing'),
      await gateway.getValue('s', { schema }),
    ]
    return { read, events: events.map((event) => [event.type, event.key, event.operation]) }
  }

  test('getValue reads through getSync with the values and events of the promise path', async () => {
    const seen: CacheEvent[] = []
    const viaSync = await observe(
      new CacheGateway(syncMapStore(), { onEvent: (e) => seen.push(e) }),
      seen,
    )
    const seenAsync: CacheEvent[] = []
    const viaPromise = await observe(
      new CacheGateway(mapStore(), { onEvent: (e) => seenAsync.push(e) }),
      seenAsync,
    )
    expect(viaSync).toEqual(viaPromise)
    expect(viaSync.read).toEqual([1, undefined, undefined])
    expect(viaSync.events).toEqual([
      ['hit', 'n', 'get'],
      ['miss', 'missing', 'get'],
      ['error', 's', 'get'],
    ])
  })

  test('setValueSync writes at once, emits a write event and throws store errors as events', () => {
    const events: CacheEvent[] = []
    const gateway = new CacheGateway(syncMapStore(), { onEvent: (event) => events.push(event) })
    gateway.setValueSync('k', { id: 1 })
    expect(gateway.getValueSync('k')).toEqual({ id: 1 })
    expect(() => gateway.setValueSync('refused', 1)).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED', key: 'refused' }),
    )
    expect(() => gateway.setValueSync('k', undefined)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    expect(events.map((event) => [event.type, event.key, event.operation])).toEqual([
      ['write', 'k', 'set'],
      ['hit', 'k', 'get'],
      ['error', 'refused', 'set'],
    ])
  })

  test('synchronous calls on a store without them throw E_UNSUPPORTED', () => {
    const plain = new CacheGateway(mapStore())
    expect(() => plain.getValueSync('k')).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED' }),
    )
    expect(() => plain.setValueSync('k', 1)).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED' }),
    )
    const readsOnly = new CacheGateway(syncMapStore(false))
    expect(readsOnly.getValueSync('k')).toBeUndefined()
    expect(() => readsOnly.setValueSync('k', 1)).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED', key: 'k' }),
    )
  })
})
