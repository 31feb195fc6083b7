import { CacheGateway } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { MemoryStore } from '../src/index.js'

const same = (value: unknown) => value

function clock(start = 1_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

function raw() {
  const time = clock()
  const store = new MemoryStore({ raw: true, now: time.now, pruneInterval: false })
  return { store, time, gateway: new CacheGateway(store) }
}

describe('settled reads (getSettled, and getValue on a raw store)', () => {
  test('an awaited read of a raw entry hands out one promise of the stored value', async () => {
    const { store, gateway } = raw()
    const value = { id: 1 }
    store.setSync('k', value)
    const first = gateway.getValue('k')
    expect(gateway.getValue('k')).toBe(first)
    const own = store.getSettled('k', same)
    expect(store.getSettled('k', same)).toBe(own)
    expect(await own).toBe(value)
    expect(await first).toBe(value)
    expect(gateway.getValueSync('k')).toBe(value)
  })

  test('a write, a delete, an expiry or a clear is never answered with an older promise', async () => {
    const { store, time, gateway } = raw()
    const one = { v: 1 }
    const two = { v: 2 }
    await gateway.setValue('k', one, 100)
    const before = gateway.getValue('k')
    await gateway.setValue('k', two, 100)
    expect(gateway.getValue('k')).not.toBe(before)
    expect(await gateway.getValue('k')).toBe(two)
    // The same object written again is a new entry too: its TTL and recency are the write's.
    const kept = gateway.getValue('k')
    await gateway.setValue('k', two, 100)
    expect(gateway.getValue('k')).not.toBe(kept)

    time.advance(101)
    expect(await gateway.getValue('k')).toBeUndefined()
    expect(await store.has('k')).toBe(false)

    await gateway.setValue('d', one)
    await gateway.getValue('d')
    await gateway.delete('d')
    expect(await gateway.getValue('d')).toBeUndefined()

    await gateway.setValue('c', one)
    await gateway.getValue('c')
    await gateway.clear()
    expect(await gateway.getValue('c')).toBeUndefined()
  })

  test('an entry keeps its promise across touch, expires by its new TTL', async () => {
    const { store, time, gateway } = raw()
    const value = { v: 1 }
    await gateway.setValue('k', value, 100)
    const first = gateway.getValue('k')
    expect(await store.touch('k', 500)).toBe(true)
    time.advance(200)
    expect(gateway.getValue('k')).toBe(first)
    time.advance(301)
    expect(await gateway.getValue('k')).toBeUndefined()
  })

  test('counters and null read back as before', async () => {
    const { gateway } = raw()
    expect(await gateway.incr('n')).toBe(1)
    expect(await gateway.getValue('n')).toBe(1)
    expect(await gateway.incr('n', 4)).toBe(5)
    expect(await gateway.getValue('n')).toBe(5)
    await gateway.setValue('z', null)
    expect(await gateway.getValue('z')).toBeNull()
    expect(gateway.getValueSync('z')).toBeNull()
    expect(await gateway.exists('z')).toBe(true)
  })

  test('a value written with metadata reads back without it, through the kept promise too', async () => {
    const { gateway } = raw()
    const value = { v: 1 }
    await gateway.setValue('k', value, 1_000, { freshUntil: 5 })
    const first = gateway.getValue('k')
    expect(await first).toBe(value)
    expect(gateway.getValue('k')).toBe(first)
    expect(await gateway.getEntry('k')).toEqual({ value, meta: { freshUntil: 5 } })
  })

  test('another read function is not answered with a promise made for the first', async () => {
    const { store } = raw()
    store.setSync('k', 2)
    const double = (value: unknown) => (value as number) * 2
    const first = store.getSettled('k', same)
    expect(await store.getSettled('k', double)).toBe(4)
    expect(await store.getSettled('k', same)).toBe(2)
    expect(await first).toBe(2)
  })

  test('a thenable is adopted afresh on every read, as before promises were kept', async () => {
    const { gateway } = raw()
    let calls = 0
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the case under test
      then(resolve: (value: unknown) => void) {
        calls++
        resolve(`adopted ${calls}`)
      },
    }
    await gateway.setValue('t', thenable)
    expect(await gateway.getValue('t')).toBe('adopted 1')
    expect(await gateway.getValue('t')).toBe('adopted 2')
    expect(gateway.getValueSync('t')).toBe(thenable)
    const promise = Promise.resolve('inner')
    await gateway.setValue('p', promise)
    expect(gateway.getValue('p')).toBe(promise)
  })

  test('byte mode hands out a fresh copy in a fresh promise every time', async () => {
    const store = new MemoryStore()
    store.setSync('k', new Uint8Array([1, 2, 3]))
    const first = store.getSettled('k', same)
    const second = store.getSettled('k', same)
    expect(second).not.toBe(first)
    const [a, b] = await Promise.all([first, second])
    expect(a).toEqual(new Uint8Array([1, 2, 3]))
    expect(a).not.toBe(b)
    expect(await store.getSettled('missing', same)).toBeUndefined()
  })

  test('a listener still sees every hit and miss of getValue', async () => {
    const { gateway } = raw()
    const seen: string[] = []
    gateway.on((event) => seen.push(`${event.type} ${event.key}`))
    await gateway.setValue('k', { v: 1 })
    await gateway.getValue('k')
    await gateway.getValue('k')
    await gateway.getValue('nope')
    expect(seen).toEqual(['write k', 'hit k', 'hit k', 'miss nope'])
  })

  test('a closed store or a bad key still rejects', async () => {
    const { store, gateway } = raw()
    await gateway.setValue('k', { v: 1 })
    await expect(gateway.getValue('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    await store.close()
    expect(() => store.getSettled('k', same)).toThrow(
      expect.objectContaining({ code: 'E_STORE_CLOSED' }),
    )
    await expect(gateway.getValue('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('raw mode sizes null with sizeOf(null)', async () => {
    const store = new MemoryStore({
      raw: true,
      sizeOf: (value) => JSON.stringify(value).length,
      pruneInterval: false,
    })
    store.setSync('k', null)
    expect(store.getSync('k')).toBeNull()
  })
})

// What any way of keeping the promise with a raw entry must hold (a lazy wrapper made by the
// first awaited read was measured and not kept, see benchmarks/memory/README.md): no user
// value taken for an entry, no read that counts as a write (TTL, recency, size), null kept.
describe('raw entries and their kept promise', () => {
  test('a user value shaped like an entry is only a value', async () => {
    const { store, gateway } = raw()
    const decoy = { value: 'inner', settled: Promise.resolve('kept'), read: same }
    store.setSync('shape', decoy)
    expect(store.getSync('shape')).toBe(decoy)
    expect(await store.getSettled('shape', same)).toBe(decoy)
    expect(await gateway.getValue('shape')).toBe(decoy)
    expect(gateway.getValueSync('shape')).toBe(decoy)
    expect(await store.getMany(['shape'])).toEqual([decoy])
  })

  // Through the store: core's gateway checks a raw value for its envelope with instanceof, which
  // runs the getPrototypeOf trap.
  test('a proxy value is read without running its traps', async () => {
    const { store } = raw()
    const proxy = new Proxy(
      { v: 1 },
      {
        getPrototypeOf() {
          throw new Error('trap ran')
        },
        has() {
          throw new Error('trap ran')
        },
      },
    )
    store.setSync('p', proxy)
    expect(store.getSync('p')).toBe(proxy)
    const first = store.getSettled('p', same)
    expect(await first).toBe(proxy)
    expect(store.getSettled('p', same)).toBe(first)
    expect(store.getSync('p')).toBe(proxy)
    expect((await store.getMany(['p']))[0]).toBe(proxy)
  })

  test('null and a counter keep their promise, their TTL, and read back after touch', async () => {
    const { store, time, gateway } = raw()
    await gateway.setValue('z', null, 1_000)
    const first = gateway.getValue('z')
    expect(await first).toBeNull()
    expect(gateway.getValue('z')).toBe(first)
    time.advance(100)
    expect(await store.ttl('z')).toBe(900)
    expect(await store.touch('z', 500)).toBe(true)
    expect(gateway.getValue('z')).toBe(first)
    expect(store.getSync('z')).toBeNull()
    expect(await store.ttl('z')).toBe(500)

    expect(await store.increment('n', 2, { ttl: 1_000 })).toBe(2)
    const counted = gateway.getValue('n')
    expect(await counted).toBe(2)
    expect(gateway.getValue('n')).toBe(counted)
    time.advance(100)
    expect(await store.increment('n', 3)).toBe(5)
    expect(await store.ttl('n')).toBe(900)
    expect(await gateway.getValue('n')).toBe(5)
    expect(await store.ttl('n')).toBe(900)
  })

  test('an awaited read keeps the TTL: ttl() after it, then touch, then expiry', async () => {
    const { store, time, gateway } = raw()
    const value = { v: 1 }
    store.setSync('k', value, 1_000)
    time.advance(400)
    const first = gateway.getValue('k')
    expect(await first).toBe(value)
    expect(await store.ttl('k')).toBe(600)
    time.advance(100)
    expect(gateway.getValue('k')).toBe(first)
    expect(await store.ttl('k')).toBe(500)
    expect(await store.touch('k', 300)).toBe(true)
    expect(gateway.getValue('k')).toBe(first)
    expect(await store.ttl('k')).toBe(300)
    time.advance(300)
    expect(await gateway.getValue('k')).toBe(value)
    time.advance(1)
    expect(await gateway.getValue('k')).toBeUndefined()

    // An entry without expiry keeps none.
    store.setSync('forever', value, null)
    await gateway.getValue('forever')
    expect(await store.ttl('forever')).toBeNull()
  })

  test('an awaited read moves the entry as any read does, and evicts nothing', async () => {
    const store = new MemoryStore({ raw: true, maxEntries: 2, pruneInterval: false })
    const gateway = new CacheGateway(store)
    store.setSync('a', { v: 'a' })
    store.setSync('b', { v: 'b' })
    expect(await gateway.getValue('a')).toEqual({ v: 'a' })
    const listed: string[] = []
    for await (const key of store.keys()) listed.push(key)
    expect(listed.sort()).toEqual(['a', 'b'])
    store.setSync('c', { v: 'c' })
    // 'a' was read last, so 'b' is the one evicted.
    expect(store.getSync('b')).toBeUndefined()
    expect(store.getSync('a')).toEqual({ v: 'a' })
    expect(store.getSync('c')).toEqual({ v: 'c' })
    await gateway.close()
  })

  test('a store with sizeOf sizes a value on its write only, never on a read', async () => {
    const sized: unknown[] = []
    const store = new MemoryStore({
      raw: true,
      maxBytes: 100,
      sizeOf: (value) => {
        sized.push(value)
        return 10
      },
      pruneInterval: false,
    })
    const gateway = new CacheGateway(store)
    const value = { v: 1 }
    store.setSync('k', value)
    const onWrite = sized.length
    expect(onWrite).toBeGreaterThan(0)
    const first = gateway.getValue('k')
    expect(await first).toBe(value)
    expect(gateway.getValue('k')).toBe(first)
    expect(gateway.getValueSync('k')).toBe(value)
    expect(sized.length).toBe(onWrite)
    await gateway.incr('n')
    const afterIncr = sized.length
    expect(await gateway.getValue('n')).toBe(1)
    expect(sized.length).toBe(afterIncr)
    expect(sized.slice(0, onWrite).every((seen) => seen === value)).toBe(true)
  })

  test('a write after an awaited read is a new entry, the same object too', async () => {
    const { store, time, gateway } = raw()
    const value = { v: 1 }
    store.setSync('k', value, 1_000)
    const first = gateway.getValue('k')
    await first
    time.advance(500)
    store.setSync('k', value, 1_000)
    expect(await store.ttl('k')).toBe(1_000)
    const second = gateway.getValue('k')
    expect(second).not.toBe(first)
    expect(await second).toBe(value)
    expect(gateway.getValue('k')).toBe(second)
  })
})
