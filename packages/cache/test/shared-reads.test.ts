import type { Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { describe, expect, test } from 'vitest'
import { createCache } from '../src/index.js'

// A store that answers only through promises (like Redis), whose reads can be held back, and
// that counts its calls.
function asyncStore() {
  const inner = new MemoryStore()
  const calls: string[] = []
  let gate: Promise<void> | undefined
  let fail: Error | undefined
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'capabilities') return { ...target.capabilities, synchronous: false }
      if (property === 'getSync' || property === 'setSync' || property === 'getLocal') {
        return undefined
      }
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'constructor') return value
      return (...args: unknown[]) => {
        const name = String(property)
        if (name !== 'namespace') calls.push(name)
        if (name === 'get') {
          // The store answers at once; a held reply is only delivered later (like a reply in
          // transit while a write is sent).
          const held = gate
          const error = fail
          const reply = value.apply(target, args) as Promise<unknown>
          return (async () => {
            if (held !== undefined) await held
            if (error !== undefined) throw error
            return reply
          })()
        }
        return value.apply(target, args)
      }
    },
  }) as unknown as Store<Uint8Array>
  return {
    store,
    calls,
    count: (name: string) => calls.filter((call) => call === name).length,
    /** Holds every read started from now until the returned function is called. */
    hold(): () => void {
      let release!: () => void
      gate = new Promise((resolve) => {
        release = resolve
      })
      return () => {
        gate = undefined
        release()
      }
    },
    failReads(error: Error | undefined) {
      fail = error
    },
  }
}

function setup() {
  const backend = asyncStore()
  const cache = createCache({ default: 'main', stores: { main: backend.store } })
  return { cache, backend, [Symbol.asyncDispose]: () => cache.close() }
}

describe('remember on an asynchronous store: concurrent callers share one read', () => {
  test('100 callers of a cold key: one read, one load, one write', async () => {
    await using t = setup()
    let runs = 0
    const result = { id: 7 }
    const values = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.cache.remember('k', '1m', async () => {
          runs++
          return result
        }),
      ),
    )
    expect(runs).toBe(1)
    for (const value of values) expect(value).toBe(result)
    expect(t.backend.count('get')).toBe(1)
    expect(t.backend.count('set')).toBe(1)
  })

  test('100 callers of a cached key: one read, and every caller gets its value', async () => {
    await using t = setup()
    await t.cache.put('k', { id: 1, name: 'Ada' }, '1m')
    const values = await Promise.all(
      Array.from({ length: 100 }, () => t.cache.remember('k', '1m', () => ({ id: 2 }))),
    )
    for (const value of values) expect(value).toEqual({ id: 1, name: 'Ada' })
    expect(t.backend.count('get')).toBe(1)
    // Callers that shared the read share the value it decoded, as waiters share a load's value.
    expect(new Set(values).size).toBe(1)
    // A caller that starts after the shared read settled reads (and decodes) again.
    const later = await t.cache.remember('k', '1m', () => ({ id: 2 }))
    expect(later).toEqual({ id: 1, name: 'Ada' })
    expect(later).not.toBe(values[0])
    expect(t.backend.count('get')).toBe(2)
  })

  test('with stampede options too: one read of the entry for every caller', async () => {
    await using t = setup()
    let runs = 0
    const values = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.cache.remember('k', '1m', () => ++runs, { grace: '1h', timeout: '1s' }),
      ),
    )
    expect(values).toEqual(Array.from({ length: 50 }, () => 1))
    expect(runs).toBe(1)
    expect(t.backend.count('get')).toBe(1)
  })

  test('a caller that starts after a write of the key reads for itself', async () => {
    await using t = setup()
    await t.cache.put('k', 'old', '1m')
    const release = t.backend.hold()
    const early = t.cache.remember('k', '1m', () => 'loaded')
    const write = t.cache.put('k', 'new', '1m')
    const late = t.cache.remember('k', '1m', () => 'loaded')
    const plainLate = t.cache.remember('k', '1m', () => 'loaded', { grace: '1h' })
    release()
    await write
    // The early caller's read ran before the write; the late ones read after it.
    expect(await early).toBe('old')
    expect(await late).toBe('new')
    expect(await plainLate).toBe('new')
    expect(t.backend.count('get')).toBe(3)
  })

  test('a failed read reaches every caller that shared it; the next call reads again', async () => {
    await using t = setup()
    t.backend.failReads(new Error('read failed'))
    const callers = Array.from({ length: 20 }, () => t.cache.remember('k', '1m', () => 'v'))
    const results = await Promise.allSettled(callers)
    for (const result of results) expect(result.status).toBe('rejected')
    expect(t.backend.count('get')).toBe(1)
    t.backend.failReads(undefined)
    expect(await t.cache.remember('k', '1m', () => 'v')).toBe('v')
    expect(t.backend.count('get')).toBe(2)
  })

  test('a flush ends the sharing of every read in flight', async () => {
    await using t = setup()
    await t.cache.put('k', 'old', '1m')
    const release = t.backend.hold()
    const early = t.cache.remember('k', '1m', () => 'loaded')
    const flushed = t.cache.flush()
    const late = t.cache.remember('k', '1m', () => 'loaded')
    release()
    await flushed
    expect(await early).toBe('old')
    expect(await late).toBe('loaded')
    expect(t.backend.count('get')).toBe(2)
  })
})
