import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { describe, expect, test } from 'vitest'
import {
  type CacheEvent,
  CacheGateway,
  InvalidKeyError,
  STORE_TRACING_CHANNEL,
  type StandardSchemaV1,
  type Store,
  type StoreTraceContext,
} from '../src/index.js'
import { mapStore } from './map-store.js'

// How many reads went through a syncStore's getSettled.
let settledReads = 0

// A raw map store answering reads and writes synchronously, like a raw MemoryStore (with its
// settled reads, counted, so that the tests below see which path a read took).
function syncStore(): Store<unknown> {
  const map = new Map<string, unknown>()
  const base = mapStore() as unknown as Store<unknown>
  return {
    ...base,
    capabilities: { ...base.capabilities, synchronous: true, raw: true },
    get: async (key) => map.get(key),
    getSync: (key) => map.get(key),
    getSettled: (key, read) => {
      settledReads++
      const value = map.get(key)
      return Promise.resolve(value === undefined ? undefined : read(value))
    },
    set: async (key, value) => {
      map.set(key, value)
    },
    setSync: (key, value) => {
      map.set(key, value)
    },
  }
}

const positive: StandardSchemaV1<unknown, number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      typeof value === 'number' && value > 0
        ? { value }
        : { issues: [{ message: 'not a positive number' }] },
  },
}

describe("getValue's paths on a synchronous store", () => {
  // Each sub-channel on its own: a tracer listening only for errors (or ends) is still a tracer.
  for (const part of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) {
    test(`a subscriber to ${part} alone makes reads and writes traced`, async () => {
      const store = syncStore()
      const gateway = new CacheGateway(store)
      // Reads of `boom` fail, so that an error-only subscriber has something to see.
      const refuse = (key: string) => {
        if (key === 'boom') throw new InvalidKeyError('[test] refused', { key })
      }
      const failing = new CacheGateway({
        ...store,
        get: async (key) => {
          refuse(key)
          return store.get(key)
        },
        getSync: (key) => {
          refuse(key)
          return store.getSync!(key)
        },
      })
      const seen: string[] = []
      const listener = (message: unknown) => {
        const context = message as StoreTraceContext
        seen.push(`${context.operation} ${context.key}`)
      }
      const name = `tracing:${STORE_TRACING_CHANNEL}:${part}`
      subscribe(name, listener)
      try {
        await gateway.setValue('a', 1)
        expect(await gateway.getValue('a')).toBe(1)
        gateway.setValueSync('b', 2)
        expect(gateway.getValueSync('b')).toBe(2)
        await expect(failing.getValue('boom')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      } finally {
        unsubscribe(name, listener)
      }
      if (part === 'error') expect(seen).toEqual(['get boom'])
      else if (part === 'start' || part === 'end')
        expect(seen).toEqual(['set a', 'get a', 'set b', 'get b', 'get boom'])
      // Only the promise calls settle asynchronously.
      else expect(seen).toEqual(['set a', 'get a', 'get boom'])
    })
  }

  test('a schema is applied, a failure is a miss and an error event', async () => {
    const events: CacheEvent[] = []
    const gateway = new CacheGateway(syncStore(), { onEvent: (event) => events.push(event) })
    await gateway.setValue('good', 3)
    await gateway.setValue('bad', -1)
    expect(await gateway.getValue('good', { schema: positive })).toBe(3)
    expect(await gateway.getValue('bad', { schema: positive })).toBeUndefined()
    expect(events.map((event) => `${event.type} ${event.key}`)).toContain('error bad')
  })

  test("a store's typed error rejects getValue and is reported; others only reject", async () => {
    const events: CacheEvent[] = []
    const store = syncStore()
    let thrown: Error = new InvalidKeyError('[test] bad key')
    const gateway = new CacheGateway(
      {
        ...store,
        getSync: () => {
          throw thrown
        },
      },
      { onEvent: (event) => events.push(event) },
    )
    await expect(gateway.getValue('k')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    expect(events.map((event) => `${event.type} ${event.operation} ${event.key}`)).toEqual([
      'error get k',
    ])
    thrown = new Error('not ours')
    await expect(gateway.getValue('k')).rejects.toBe(thrown)
    expect(events).toHaveLength(1)
  })

  test("a raw store's getSettled answers getValue unless a listener, schema or byte codec needs the read", async () => {
    const store = syncStore()
    const gateway = new CacheGateway(store)
    await gateway.setValue('a', { n: 1 }, undefined, { freshUntil: 9 })
    settledReads = 0
    expect(await gateway.getValue('a')).toEqual({ n: 1 }) // the value, not its envelope
    expect(await gateway.getValue('missing')).toBeUndefined()
    expect(settledReads).toBe(2)

    expect(await gateway.getValue('a', { schema: positive })).toBeUndefined()
    const events: string[] = []
    const off = gateway.on((event) => events.push(`${event.type} ${event.key}`))
    expect(await gateway.getValue('a')).toEqual({ n: 1 })
    expect(await gateway.getValue('missing')).toBeUndefined()
    off()
    expect(events).toEqual(['hit a', 'miss missing'])
    expect(settledReads).toBe(2)

    const bytes = new CacheGateway({
      ...store,
      capabilities: { ...store.capabilities, raw: false },
    })
    await bytes.setValue('b', 'text')
    expect(await bytes.getValue('b')).toBe('text')
    expect(settledReads).toBe(2)
  })
})
