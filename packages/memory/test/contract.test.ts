import { CacheGateway, decodeCounter } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { MemoryStore } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

function clock(start = 1_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

const collect = async (keys: AsyncIterable<string>) => {
  const found: string[] = []
  for await (const key of keys) found.push(key)
  return found.sort()
}

describe('expiry with an injected clock', () => {
  test('a clock starting at 0 still expires entries, counters and locks', async () => {
    const time = clock(0)
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 100)
    await store.increment('n', 1, { ttl: 100 })
    expect(await store.lock('job', { ttl: 100 }).acquire()).toBe(1)
    time.advance(101)
    expect(await store.get('k')).toBeUndefined()
    expect(await store.get('n')).toBeUndefined()
    expect(await store.lock('job').acquire()).toBe(2)
  })

  test('an entry is alive at exactly t + ttl and gone after it', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 100)
    time.advance(100)
    expect(text(await store.get('k'))).toBe('v')
    expect(await store.ttl('k')).toBe(1)
    time.advance(0.5)
    expect(await store.get('k')).toBeUndefined()
    expect(await store.ttl('k')).toBeUndefined()
  })

  test('ttl() is the remaining time rounded up, null without expiry, undefined when missing', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 1500.5)
    expect(await store.ttl('k')).toBe(1501)
    time.advance(500.75)
    expect(await store.ttl('k')).toBe(1000)
    await store.set('forever', bytes('v'))
    expect(await store.ttl('forever')).toBeNull()
    expect(await store.ttl('missing')).toBeUndefined()
  })

  test('delete and deleteMany count only live entries', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('expired', bytes('v'), 10)
    await store.set('live', bytes('v'))
    time.advance(11)
    expect(await store.delete('expired')).toBe(false)
    await store.set('expired', bytes('v'), 10)
    time.advance(11)
    expect(await store.deleteMany(['expired', 'live'])).toBe(1)
    expect(await store.has('live')).toBe(false)
  })
})

describe('increment', () => {
  test('a TTL given applies only when the increment creates the counter', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    expect(await store.increment('n', 2, { ttl: 100 })).toBe(2)
    expect(await store.ttl('n')).toBe(100)
    time.advance(60)
    expect(await store.increment('n', 3, { ttl: 1_000 })).toBe(5)
    expect(await store.ttl('n')).toBe(40)
    time.advance(41)
    expect(await store.get('n')).toBeUndefined()
    expect(await store.increment('n', 1, { ttl: null })).toBe(1)
    expect(await store.ttl('n')).toBeNull()
  })

  test("without a TTL a new counter takes the store's defaultTtl; ttl <= 0 keeps nothing", async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, defaultTtl: '1s', pruneInterval: false })
    expect(await store.increment('n')).toBe(1)
    expect(await store.ttl('n')).toBe(1_000)
    expect(await store.increment('gone', 4, { ttl: '0s' })).toBe(4)
    expect(await store.has('gone')).toBe(false)
  })

  test('past the safe-integer range it is refused and nothing changes', async () => {
    const time = clock()
    for (const raw of [false, true]) {
      const store = new MemoryStore({ raw, now: time.now, pruneInterval: false })
      await store.increment('n', Number.MAX_SAFE_INTEGER, { ttl: 100 })
      await expect(store.increment('n', 1)).rejects.toMatchObject({
        code: 'E_NOT_A_NUMBER',
        key: 'n',
      })
      expect(decodeCounter(await store.get('n'))).toBe(Number.MAX_SAFE_INTEGER)
      expect(await store.ttl('n')).toBe(100)
      await expect(store.increment('n', 1, { ttl: 'soon' })).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
      })
    }
  })

  test('non-canonical counter bytes are refused and kept', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    await store.set('n', bytes('007'))
    await expect(store.increment('n')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
    expect(text(await store.get('n'))).toBe('007')
  })
})

describe('touch', () => {
  test('replaces the TTL of a live entry; null removes expiry; <= 0 removes the entry', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 100)
    time.advance(90)
    expect(await store.touch('k', 100)).toBe(true)
    time.advance(90)
    expect(text(await store.get('k'))).toBe('v')
    expect(await store.touch('k', null)).toBe(true)
    expect(await store.ttl('k')).toBeNull()
    expect(await store.touch('k', '0ms')).toBe(true)
    expect(await store.has('k')).toBe(false)
    expect(await store.touch('missing', 100)).toBe(false)
  })

  test('never revives an expired entry', async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    await store.set('k', bytes('v'), 10)
    time.advance(11)
    expect(await store.touch('k', 1_000)).toBe(false)
    expect(await store.get('k')).toBeUndefined()
  })
})

describe('namespaces and keys()', () => {
  test("a namespace's keys cannot alias the parent's plain keys or a sibling's", async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const users = store.namespace('users')
    await store.set('users:42', bytes('root'))
    await users.set('42', bytes('ns'))
    await store.namespace('user').set('s:42', bytes('sibling'))
    expect(text(await store.get('users:42'))).toBe('root')
    expect(text(await users.get('42'))).toBe('ns')
    await users.clear()
    expect(text(await store.get('users:42'))).toBe('root')
    expect(text(await store.namespace('user').get('s:42'))).toBe('sibling')
  })

  test("keys() lists this namespace's live keys only, unscoped", async () => {
    const time = clock()
    const store = new MemoryStore({ now: time.now, pruneInterval: false })
    const ns = store.namespace('ns')
    await store.set('a', bytes('1'))
    await store.set('~tilde', bytes('2'))
    await store.set('short', bytes('3'), 10)
    await ns.set('inner', bytes('4'))
    await ns.namespace('deeper').set('x', bytes('5'))
    await store.lock('job').acquire()
    time.advance(11)
    expect(await collect(store.keys())).toEqual(['a', '~tilde'])
    expect(await collect(ns.keys())).toEqual(['inner'])
    expect(await collect(new CacheGateway(store, { prefix: 'ns' }).keys())).toEqual(['inner'])
  })

  test('a constructor after namespace() builds a new root: the handoff is emptied at once', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    store.namespace('ns')
    const other = new MemoryStore({ pruneInterval: false })
    await other.set('k', bytes('v'))
    expect(await store.has('k')).toBe(false)
    await store.close()
    expect(await other.has('k')).toBe(true)
  })
})

describe('locks and closing', () => {
  test('lock names are scoped per namespace', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    expect(await store.lock('job').acquire()).toBe(1)
    expect(await store.namespace('ns').lock('job').acquire()).toBe(1)
    expect(await store.lock('~ns:job').acquire()).toBe(1)
  })

  test('lock handles made before close() refuse every call afterwards, in both modes', async () => {
    for (const raw of [false, true]) {
      const store = new MemoryStore({ raw, pruneInterval: false })
      const rootLock = store.lock('job')
      const nsLock = store.namespace('ns').lock('job')
      await store.close()
      for (const lock of [rootLock, nsLock]) {
        await expect(lock.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
        await expect(lock.isLocked()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
        await expect(lock.forceRelease()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      }
      expect(() => store.lock('job')).toThrow(expect.objectContaining({ code: 'E_STORE_CLOSED' }))
    }
  })

  test("closing a namespace refuses its own locks and leaves the root's working", async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const ns = store.namespace('ns')
    const nsLock = ns.lock('job')
    await ns.close()
    await expect(nsLock.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await store.lock('job').acquire()).toBe(1)
  })

  test('closing a namespace closes the namespaces made from it, not its parent or siblings', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    const ns = store.namespace('ns')
    const nested = ns.namespace('nested')
    const sibling = store.namespace('sibling')
    await ns.close()
    await expect(nested.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await sibling.set('k', bytes('v'))
    expect(await store.namespace('ns').namespace('nested').has('k')).toBe(false)
    expect(text(await sibling.get('k'))).toBe('v')
  })

  test('new methods reject with E_STORE_CLOSED after close', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    await store.close()
    await expect(store.touch('k', 10)).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(store.ttl('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(collect(store.keys())).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })
})

describe('capabilities and the default clock', () => {
  test('declares readsTtl, listsKeys, evicts and its TTL precision', () => {
    const store = new MemoryStore({ pruneInterval: false })
    expect(store.capabilities).toMatchObject({
      readsTtl: true,
      listsKeys: true,
      evicts: true,
      ttlPrecision: 2,
    })
    expect(new MemoryStore({ now: () => 5 }).capabilities.ttlPrecision).toBe(1)
  })

  test('with the default clock, exact operations see expiry even before reads do', async () => {
    const store = new MemoryStore({ pruneInterval: false })
    await store.set('k', bytes('v'), 2)
    await store.set('other', bytes('v'), 2)
    const past = performance.now() + 5
    while (performance.now() < past) {
      // Synchronous: the event loop does not turn, so reads may still use an older reading.
    }
    expect(await store.ttl('k')).toBeUndefined()
    expect(await store.delete('other')).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(store.getSync('k')).toBeUndefined()
  })
})
