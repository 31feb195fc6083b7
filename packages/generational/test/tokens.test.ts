import { CacheGateway } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { VersionTokenResolver } from '../src/index.js'
import { countStoreCalls } from './helpers.js'

afterEach(() => {
  vi.useRealTimers()
})

// Two resolvers on one store stand for two processes sharing it.
function pair(memoize?: number | string) {
  const tokens = new CacheGateway(new MemoryStore())
  return {
    tokens,
    a: new VersionTokenResolver(tokens, memoize === undefined ? {} : { memoize }),
    b: new VersionTokenResolver(tokens, memoize === undefined ? {} : { memoize }),
  }
}

describe('VersionTokenResolver', () => {
  test('a bump gives a new fingerprint; reads are one getMany once tokens exist', async () => {
    const { a } = pair()
    const first = await a.fingerprint(['t', 'u'])
    expect(await a.fingerprint(['t', 'u'])).toBe(first)
    await a.bump(['t'])
    const { result, calls } = await countStoreCalls(() => a.fingerprint(['t', 'u']))
    expect(result).not.toBe(first)
    expect(calls.map((call) => call.operation)).toEqual(['getMany'])
  })

  test('without memoize, another process sees a bump on its next read', async () => {
    const { a, b } = pair()
    const before = await b.fingerprint(['t'])
    await a.bump(['t'])
    expect(await b.fingerprint(['t'])).not.toBe(before)
  })

  test('memoized tokens are reused for the configured time only, then read again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { a, b } = pair('5s')
    const before = await b.fingerprint(['t'])
    await a.bump(['t'])
    expect(await a.fingerprint(['t'])).not.toBe(before) // its own bump: at once
    const { result, calls } = await countStoreCalls(() => b.fingerprint(['t']))
    expect(result).toBe(before)
    expect(calls).toEqual([])
    vi.advanceTimersByTime(5_001)
    expect(await b.fingerprint(['t'])).toBe(await a.fingerprint(['t']))
  })

  test('memoize must be finite', () => {
    const tokens = new CacheGateway(new MemoryStore())
    expect(() => new VersionTokenResolver(tokens, { memoize: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    expect(() => new VersionTokenResolver(tokens, { memoize: -1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })

  test('a lost token (eviction, flush) never reproduces an earlier fingerprint', async () => {
    const { tokens, a } = pair()
    const seen = new Set<string>()
    for (let round = 0; round < 3; round++) {
      seen.add(await a.fingerprint(['t']))
      await a.bump(['t'])
    }
    await tokens.delete('version:t')
    const afterLoss = await a.fingerprint(['t'])
    expect(seen.has(afterLoss)).toBe(false)
    await tokens.clear()
    expect([...seen, afterLoss]).not.toContain(await a.fingerprint(['t']))
  })
})
