import { describe, expect, test } from 'vitest'
import { MemoryStore } from '../src/index.js'

// A namespace reuses the stored form of each key it has seen (a memo no larger than the LRU,
// emptied when full). These tests drive more distinct keys through it than it may keep.
describe('namespace keys', () => {
  test('every key reads back its own value after the memo of stored keys was emptied', async () => {
    const store = new MemoryStore({ raw: true, maxEntries: 8, pruneInterval: false })
    const ns = store.namespace('catalog')
    const keys = Array.from({ length: 40 }, (_, i) => `product:${1000 + i}`)
    for (const key of keys) ns.setSync(key, { key }, 60_000)
    // The LRU keeps the last 8 writes; the memo was emptied several times on the way.
    for (const key of keys.slice(-8)) expect(ns.getSync(key)).toEqual({ key })
    for (const key of keys.slice(0, -8)) expect(ns.getSync(key)).toBeUndefined()
    // The same keys, read again after the reads above refilled the memo.
    for (const key of keys.slice(-8)) expect(await ns.get(key)).toEqual({ key })
    expect(await ns.getMany(keys.slice(-3))).toEqual(keys.slice(-3).map((key) => ({ key })))
    await store.close()
  })

  test('namespaced keys never alias the root, siblings or `~` keys', async () => {
    const store = new MemoryStore({ raw: true, maxEntries: 4, pruneInterval: false })
    const a = store.namespace('a')
    const b = store.namespace('b')
    for (let round = 0; round < 3; round++) {
      // More distinct keys than the memo keeps, so some reads rebuild their stored form.
      for (const [i, key] of ['k', '~k', '~~k', 'k2', 'k3'].entries()) {
        a.setSync(key, `a${i}`)
        b.setSync(key, `b${i}`)
        expect(a.getSync(key)).toBe(`a${i}`)
        expect(b.getSync(key)).toBe(`b${i}`)
        expect(store.getSync(key)).toBeUndefined()
      }
    }
    expect(await a.delete('~k')).toBe(false) // evicted: the LRU holds 4 entries
    expect(await b.delete('k3')).toBe(true)
    expect(a.getSync('k3')).toBe('a4')
    await store.close()
  })

  test('a bad key is still refused by a namespace that has seen it before', () => {
    const store = new MemoryStore({ raw: true, pruneInterval: false })
    const ns = store.namespace('n')
    expect(() => ns.getSync('\ud800')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
    expect(() => ns.getSync('\ud800')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
    expect(() => ns.setSync('\ud800', 1)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    )
    expect(() => ns.getSync('')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
    void store.close()
  })
})
