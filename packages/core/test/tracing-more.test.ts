import { tracingChannel } from 'node:diagnostics_channel'
import { describe, expect, test } from 'vitest'
import {
  BackendUnavailableError,
  type CacheEvent,
  CacheGateway,
  LOCK_TRACING_CHANNEL,
  Lock,
  type LockTraceContext,
  STORE_TRACING_CHANNEL,
  type Store,
  type StoreTraceContext,
} from '../src/index.js'
import { mapLockBackend, mapStore } from './map-store.js'

// A map store that also reads and writes synchronously, lists its keys and has locks.
function fullStore(): Store<Uint8Array> {
  const map = new Map<string, Uint8Array>()
  const base = mapStore()
  const backend = mapLockBackend()
  return {
    ...base,
    capabilities: { ...base.capabilities, synchronous: true, listsKeys: true, locks: true },
    get: async (key) => map.get(key),
    getSync: (key) => map.get(key),
    set: async (key, value) => {
      map.set(key, value)
    },
    setSync: (key, value) => {
      map.set(key, value)
    },
    ttl: async (key) => (map.has(key) ? null : undefined),
    touch: async (key) => map.has(key),
    keys: async function* () {
      yield* [...map.keys()]
    },
    lock: (name, options) => new Lock(backend, name, options),
  }
}

function subscribe<C extends object>(name: string, about: (context: C) => string) {
  const seen: string[] = []
  const channel = tracingChannel<unknown, C>(name)
  const handlers = {
    start: (context: C) => seen.push(`start ${about(context)}`),
    end: (context: C) => seen.push(`end ${about(context)}`),
    asyncStart: () => {},
    asyncEnd: (context: C) => seen.push(`asyncEnd ${about(context)}`),
    error: (context: C) => seen.push(`error ${about(context)}`),
  }
  channel.subscribe(handlers)
  return { seen, stop: () => channel.unsubscribe(handlers) }
}

const aboutStore = (context: StoreTraceContext) =>
  `${context.operation} ${context.store} ${context.key}`

describe('tracing of the synchronous and listing calls', () => {
  test('getValueSync and setValueSync are traced, start and end around the store call', () => {
    const gateway = new CacheGateway(fullStore())
    const { seen, stop } = subscribe(STORE_TRACING_CHANNEL, aboutStore)
    try {
      gateway.setValueSync('k', 1)
      expect(gateway.getValueSync('k')).toBe(1)
    } finally {
      stop()
    }
    expect(seen).toEqual(['start set map k', 'end set map k', 'start get map k', 'end get map k'])
  })

  test('a synchronous store call that throws publishes error with the cellar error', () => {
    const store = fullStore()
    const failing: Store<Uint8Array> = {
      ...store,
      getSync: (key) => {
        throw new BackendUnavailableError('[cellar] test: backend down', { key })
      },
    }
    const gateway = new CacheGateway(failing)
    const { seen, stop } = subscribe(STORE_TRACING_CHANNEL, aboutStore)
    try {
      expect(() => gateway.getValueSync('k')).toThrow(/backend down/)
    } finally {
      stop()
    }
    expect(seen).toEqual(['start get map k', 'error get map k', 'end get map k'])
  })

  test('every page of keys() is traced as operation keys', async () => {
    const gateway = new CacheGateway(fullStore())
    await gateway.setValue('a', 1)
    await gateway.setValue('b', 2)
    const { seen, stop } = subscribe(STORE_TRACING_CHANNEL, aboutStore)
    const listed: string[] = []
    try {
      for await (const key of gateway.keys()) listed.push(key)
    } finally {
      stop()
    }
    expect(listed).toEqual(['a', 'b'])
    // Three steps: a, b, then done.
    expect(seen.filter((line) => line.startsWith('start'))).toEqual([
      'start keys map undefined',
      'start keys map undefined',
      'start keys map undefined',
    ])
  })
})

describe('lock tracing channel', () => {
  test('each backend call of a lock is traced with its operation, name and owner', async () => {
    const gateway = new CacheGateway(fullStore())
    const lock = gateway.lock('job', { owner: 'me' })
    const other = gateway.lock('job', { owner: 'you' })
    const { seen, stop } = subscribe<LockTraceContext>(
      LOCK_TRACING_CHANNEL,
      (context) => `${context.operation} ${context.lock} ${context.owner}`,
    )
    try {
      expect(await lock.acquire()).toBe(1)
      expect(await other.acquire()).toBe(false)
      expect(await lock.isOwned()).toBe(true)
      await lock.extend('1m')
      await lock.release()
      await lock.forceRelease()
    } finally {
      stop()
    }
    const calls = seen.filter((line) => line.startsWith('asyncEnd')).map((line) => line.slice(9))
    expect(calls).toEqual([
      'acquire job me',
      'acquire job you',
      'inspect job me',
      'extend job me',
      'release job me',
      'forceRelease job me',
    ])
  })

  test('nothing is published without a subscriber', async () => {
    const gateway = new CacheGateway(fullStore())
    const lock = gateway.lock('quiet')
    expect(await lock.acquire()).toBe(1)
    await lock.release()
    expect(tracingChannel(LOCK_TRACING_CHANNEL).start.hasSubscribers).toBe(false)
  })
})

describe('ttl() and a touch that finds nothing are not reads', () => {
  test('they emit no hit or miss (hit rates count reads only), and ttl() is traced', async () => {
    const gateway = new CacheGateway(fullStore())
    await gateway.setValue('live', 1)
    const events: CacheEvent[] = []
    gateway.on((event) => events.push(event))
    const { seen, stop } = subscribe(STORE_TRACING_CHANNEL, aboutStore)
    try {
      expect(await gateway.ttl('live')).toBeNull()
      expect(await gateway.ttl('gone')).toBeUndefined()
      expect(await gateway.touch('gone', '1m')).toBe(false)
      expect(await gateway.touch('live', '1m')).toBe(true)
    } finally {
      stop()
    }
    expect(events.map((event) => `${event.type} ${event.operation} ${event.key}`)).toEqual([
      'touch touch live',
    ])
    expect(seen.filter((line) => line.startsWith('start'))).toEqual([
      'start ttl map live',
      'start ttl map gone',
      'start touch map gone',
      'start touch map live',
    ])
  })
})
