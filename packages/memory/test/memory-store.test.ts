import { CacheGateway, decodeCounter } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { MemoryStore } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)

function clock(start = 1_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('MemoryStore specifics', () => {
  test('expiry follows the injected clock to the millisecond', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 100)
    time.advance(100)
    expect(await store.has('k')).toBe(true)
    time.advance(1)
    expect(await store.get('k')).toBeUndefined()
  })

  test('increment keeps the remaining TTL under the injected clock', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('n', bytes('1'), 100)
    time.advance(60)
    expect(await store.increment('n', 2)).toBe(3)
    time.advance(40)
    expect(decodeCounter(await store.get('n'))).toBe(3)
    time.advance(1)
    expect(await store.get('n')).toBeUndefined()
  })

  test('locks expire by the injected clock', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    const first = store.lock('job', { ttl: 1_000 })
    const second = store.lock('job', { ttl: 1_000 })
    expect(await first.acquire()).toBe(1)
    expect(await second.acquire()).toBe(false)
    expect(await first.remainingTime()).toBe(1_000)
    time.advance(1_000)
    expect(await second.acquire()).toBe(2)
  })

  test('evicts the least recently used entry past maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2, pruneInterval: false })
    await store.set('a', bytes('1'))
    await store.set('b', bytes('2'))
    await store.get('a')
    await store.set('c', bytes('3'))
    expect(await store.has('a')).toBe(true)
    expect(await store.has('b')).toBe(false)
    expect(await store.has('c')).toBe(true)
  })

  test('evicts by bytes past maxBytes', async () => {
    const store = new MemoryStore({ maxBytes: 100, maxValueSize: 60, pruneInterval: false })
    await store.set('a', new Uint8Array(40))
    await store.set('b', new Uint8Array(40))
    await store.set('c', new Uint8Array(40))
    expect(await store.has('a')).toBe(false)
    expect(await store.has('b')).toBe(true)
    expect(await store.has('c')).toBe(true)
    await expect(store.set('d', new Uint8Array(61))).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
      key: 'd',
    })
  })

  test('byte mode copies in and out: callers cannot mutate cached bytes', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const input = bytes('abc')
    await store.set('k', input)
    input[0] = 0x7a
    const first = (await store.get('k')) as Uint8Array
    first[1] = 0x7a
    expect(new TextDecoder().decode((await store.get('k')) as Uint8Array)).toBe('abc')
  })

  test('raw mode keeps values by reference and the gateway skips serialization', async () => {
    const store = new MemoryStore({ raw: true, pruneInterval: false })
    const gateway = new CacheGateway(store)
    const value = { list: [1, 2] }
    await gateway.setValue('obj', value)
    expect(await gateway.getValue('obj')).toBe(value)
    await gateway.setValue('nothing', null)
    expect(await gateway.getValue('nothing')).toBeNull()
    expect(await gateway.incr('hits')).toBe(1)
    expect(await store.get('hits')).toBe(1)
  })

  test('raw mode bounds bytes only when given sizeOf', async () => {
    const store = new MemoryStore({
      raw: true,
      maxBytes: 10,
      maxValueSize: 5,
      sizeOf: (value) => String(value).length,
      pruneInterval: false,
    })
    expect(store.capabilities.maxValueSize).toBe(5)
    await expect(store.set('k', 'too long')).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' })
    expect(new MemoryStore({ raw: true }).capabilities.maxValueSize).toBe(Infinity)
  })

  test('the periodic sweep removes expired entries and close() stops it', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: 5 })
    await store.set('k', bytes('v'), 10)
    time.advance(20)
    await new Promise((resolve) => setTimeout(resolve, 30))
    // purgeStale ran: the entry is gone from the LRU without a read touching it.
    expect([...(await store.getMany(['k']))]).toEqual([undefined])
    await store.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('closing a namespace keeps its entries; closing the root closes every namespace', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const child = store.namespace('child')
    await child.set('k', bytes('v'))
    await child.close()
    await expect(child.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await store.namespace('child').has('k')).toBe(true)
    const other = store.namespace('other')
    await store.close()
    await expect(other.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('rejects impossible options in the constructor', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/)
    expect(() => new MemoryStore({ maxBytes: -1 })).toThrow(/maxBytes/)
    expect(() => new MemoryStore({ defaultTtl: 'soon' })).toThrow(/not a duration/)
  })
})

describe('synchronous reads', () => {
  test('getValueSync reads through the gateway without a promise, in both modes', async () => {
    for (const raw of [false, true]) {
      const gateway = new CacheGateway(new MemoryStore({ raw, pruneInterval: false }))
      await gateway.setValue('user', { id: 1 })
      expect(gateway.getValueSync('user')).toEqual({ id: 1 })
      expect(gateway.getValueSync('missing')).toBeUndefined()
      await gateway.incr('n', 3)
      expect(gateway.getValueSync('n')).toBe(3)
    }
  })

  test('getValueSync validates with a synchronous schema and refuses an async one', async () => {
    const gateway = new CacheGateway(new MemoryStore({ pruneInterval: false }))
    await gateway.setValue('n', 'x')
    const sync = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) =>
          typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] },
      },
    }
    expect(gateway.getValueSync('n', { schema: sync })).toBeUndefined()
    const asyncSchema = {
      '~standard': { ...sync['~standard'], validate: async (value: unknown) => ({ value }) },
    }
    expect(() => gateway.getValueSync('n', { schema: asyncSchema })).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED', key: 'n' }),
    )
  })

  test('raw reads without a schema: metadata unwrapped, listeners added later still see events', async () => {
    const gateway = new CacheGateway(new MemoryStore({ raw: true, pruneInterval: false }))
    const product = { id: 1 }
    await gateway.setValue('p', product)
    await gateway.setValue('m', product, undefined, { freshUntil: 1 })
    expect(gateway.getValueSync('p')).toBe(product)
    expect(gateway.getValueSync('m')).toBe(product)
    expect(await gateway.getValue('m')).toBe(product)
    expect((await gateway.getEntry('m'))?.meta).toEqual({ freshUntil: 1 })
    const events: string[] = []
    const off = gateway.on((event) => events.push(`${event.type} ${event.key}`))
    gateway.getValueSync('p')
    await gateway.getValue('missing')
    off()
    gateway.getValueSync('p')
    expect(events).toEqual(['hit p', 'miss missing'])
  })

  test('a raw store may cache a promise: getValueSync without a schema returns it', async () => {
    // Only an async schema makes getValueSync refuse; a cached promise is a value like any other.
    const gateway = new CacheGateway(new MemoryStore({ raw: true, pruneInterval: false }))
    const pending = Promise.resolve(7)
    gateway.setValueSync('pending', pending)
    expect(gateway.getValueSync('pending')).toBe(pending)
    expect(await gateway.getValue('pending')).toBe(7)
  })
})

describe('synchronous writes', () => {
  test('setValueSync writes through the gateway without a promise, in both modes', async () => {
    for (const raw of [false, true]) {
      const gateway = new CacheGateway(new MemoryStore({ raw, pruneInterval: false }))
      expect(gateway.setValueSync('user', { id: 1 })).toBeUndefined()
      expect(gateway.getValueSync('user')).toEqual({ id: 1 })
      expect(await gateway.getValue('user')).toEqual({ id: 1 })
      gateway.setValueSync('n', 7)
      expect(await gateway.incr('n', 1)).toBe(8)
      gateway.setValueSync('nothing', null)
      expect(gateway.getValueSync('nothing')).toBeNull()
      gateway.setValueSync('user', { id: 1 }, 0)
      expect(await gateway.exists('user')).toBe(false)
      const entry = { expiresAt: 2_000_000_000_000 }
      gateway.setValueSync('meta', 'v', undefined, entry)
      expect(await gateway.getEntry('meta')).toEqual({ value: 'v', meta: entry })
    }
  })

  test('setValueSync takes the TTL to the millisecond on the injected clock', () => {
    const time = clock()
    const store = new MemoryStore({ raw: true, now: time.now, pruneInterval: false })
    const gateway = new CacheGateway(store)
    gateway.setValueSync('k', 'v', 100)
    gateway.setValueSync('forever', 'v', null)
    time.advance(100)
    expect(gateway.getValueSync('k')).toBe('v')
    time.advance(1)
    expect(gateway.getValueSync('k')).toBeUndefined()
    expect(gateway.getValueSync('forever')).toBe('v')
  })

  test('setValueSync throws bad input at once, writing nothing, and reports store errors as events', () => {
    const events: Array<{ type: string; code?: string }> = []
    const store = new MemoryStore({ maxBytes: 1024, maxValueSize: 8, pruneInterval: false })
    const gateway = new CacheGateway(store, {
      onEvent: (event) =>
        events.push(
          event.type === 'error' ? { type: 'error', code: event.error.code } : { type: event.type },
        ),
    })
    gateway.setValueSync('k', 'old')
    const refused: Array<[() => void, string]> = [
      [() => gateway.setValueSync('', 'v'), 'E_INVALID_KEY'],
      [() => gateway.setValueSync('k', undefined), 'E_INVALID_ARGUMENT'],
      [() => gateway.setValueSync('k', 'v', Number.NaN), 'E_INVALID_ARGUMENT'],
      [() => gateway.setValueSync('k', 'v', 'soon'), 'E_INVALID_ARGUMENT'],
      [() => gateway.setValueSync('k', 'a value longer than eight bytes'), 'E_VALUE_TOO_LARGE'],
    ]
    for (const [write, code] of refused) {
      expect(write).toThrow(expect.objectContaining({ code }))
    }
    expect(gateway.getValueSync('k')).toBe('old')
    // One write event for the good write; the store's refusals are error events (bad values
    // are refused by the codec before the store is asked, as with setValue).
    expect(events[0]).toEqual({ type: 'write' })
    expect(events.filter((event) => event.type === 'write')).toHaveLength(1)
    expect(events.filter((event) => event.type === 'error').map((event) => event.code)).toEqual([
      'E_INVALID_KEY',
      'E_INVALID_ARGUMENT',
      'E_INVALID_ARGUMENT',
      'E_VALUE_TOO_LARGE',
    ])
  })

  test('setValueSync on a closed store throws E_STORE_CLOSED', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const gateway = new CacheGateway(store)
    await store.close()
    expect(() => gateway.setValueSync('k', 'v')).toThrow(
      expect.objectContaining({ code: 'E_STORE_CLOSED' }),
    )
  })
})

describe('promise writes on a synchronous store', () => {
  test('setValue has written when it returns; every TTL form keeps its meaning', async () => {
    const time = clock()
    const store = new MemoryStore({ raw: true, now: time.now, pruneInterval: false })
    const gateway = new CacheGateway(store)
    const written = gateway.setValue('k', 'v', 100)
    expect(gateway.getValueSync('k')).toBe('v')
    await written
    await gateway.setValue('fraction', 'v', 0.25)
    await gateway.setValue('infinite', 'v', Number.POSITIVE_INFINITY)
    await gateway.setValue('string', 'v', '1s')
    expect(await store.ttl('fraction')).toBe(1)
    expect(await store.ttl('infinite')).toBeNull()
    expect(await store.ttl('string')).toBe(1_000)
    time.advance(100)
    expect(gateway.getValueSync('k')).toBe('v')
    time.advance(1)
    expect(gateway.getValueSync('k')).toBeUndefined()
    await gateway.setValue('infinite', 'v', -1)
    expect(await gateway.exists('infinite')).toBe(false)
  })

  test('setValue rejects bad input and a closed store with typed errors, writing nothing', async () => {
    const store = new MemoryStore({ raw: true, pruneInterval: false })
    const gateway = new CacheGateway(store)
    await gateway.setValue('k', 'old')
    const refused: Array<[() => Promise<void>, string]> = [
      [() => gateway.setValue('', 'v'), 'E_INVALID_KEY'],
      [() => gateway.setValue('k', undefined), 'E_INVALID_ARGUMENT'],
      [() => gateway.setValue('k', 'v', Number.NaN), 'E_INVALID_ARGUMENT'],
      [() => gateway.setValue('k', 'v', 'soon'), 'E_INVALID_ARGUMENT'],
    ]
    for (const [write, code] of refused) {
      await expect(write()).rejects.toMatchObject({ code })
    }
    await expect(gateway.setValue('k', 'v', Number.NaN)).rejects.toMatchObject({ key: 'k' })
    expect(gateway.getValueSync('k')).toBe('old')
    await store.close()
    await expect(gateway.setValue('k', 'v')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })
})
