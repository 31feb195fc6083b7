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
