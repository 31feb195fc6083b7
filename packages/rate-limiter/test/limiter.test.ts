import { BackendUnavailableError, type Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { afterEach, describe, expect, test } from 'vitest'
import { RateLimiter } from '../src/index.js'

const stores: MemoryStore[] = []
afterEach(async () => {
  while (stores.length > 0) await stores.pop()?.close()
})

function memory(now?: () => number): MemoryStore {
  const store = now === undefined ? new MemoryStore() : new MemoryStore({ now })
  stores.push(store)
  return store
}

// A store whose every call fails as a backend failure would (the server went away).
function failing(store: Store<unknown>): Store<unknown> {
  const fail = async () => {
    throw new BackendUnavailableError('[cellar:test] the server went away')
  }
  const backend = { fixedWindow: fail, slidingWindow: fail, tokenBucket: fail, reset: fail }
  return { ...store, name: 'failing', namespace: () => ({ ...store, rateLimiter: () => backend }) }
}

describe("Laravel's RateLimiter methods", () => {
  test('attempt runs the callback while under max, then resolves false without running it', async () => {
    const limiter = new RateLimiter({ store: memory(), limit: 5, window: '1m' })
    let runs = 0
    const results = []
    for (let i = 0; i < 4; i++) results.push(await limiter.attempt('send:1', 3, () => ++runs))
    expect(results).toEqual([1, 2, 3, false])
    expect(runs).toBe(3)
  })

  test('hit counts past the limit; attempts, tooManyAttempts, remaining and availableIn read', async () => {
    let now = 1_000_000
    const limiter = new RateLimiter({ store: memory(() => now), limit: 3, window: 10_000 })
    expect(await limiter.attempts('k')).toBe(0)
    expect(await limiter.availableIn('k')).toBe(0)
    expect(await limiter.hit('k')).toBe(1)
    expect(await limiter.hit('k')).toBe(2)
    expect(await limiter.tooManyAttempts('k', 3)).toBe(false)
    expect(await limiter.remaining('k', 3)).toBe(1)
    expect(await limiter.hit('k')).toBe(3)
    expect(await limiter.hit('k')).toBe(4)
    expect(await limiter.attempts('k')).toBe(4) // counted past the limit, as Laravel does
    expect(await limiter.tooManyAttempts('k', 3)).toBe(true)
    expect(await limiter.remaining('k', 3)).toBe(0)
    expect(await limiter.remaining('k', 10)).toBe(6)
    now += 4000
    expect(await limiter.availableIn('k')).toBe(6000)
    await limiter.resetAttempts('k')
    expect(await limiter.attempts('k')).toBe(0)
    await limiter.hit('k')
    await limiter.clear('k')
    expect(await limiter.tooManyAttempts('k', 1)).toBe(false)
  })

  test('penalty takes points past the limit, reward gives them back', async () => {
    const limiter = new RateLimiter({ store: memory(), limit: 5, window: '1m' })
    expect((await limiter.penalty('p', 7)).remaining).toBe(0)
    expect((await limiter.consume('p')).allowed).toBe(false)
    expect((await limiter.reward('p', 4)).remaining).toBe(2)
    expect((await limiter.consume('p')).allowed).toBe(true)
    expect((await limiter.reward('p', 100)).remaining).toBe(5)
  })
})

describe('blocks, failures and refusals', () => {
  test('the block cache answers a blocked key without asking the store', async () => {
    const store = memory()
    const limiter = new RateLimiter({ store, limit: 1, window: '1m', blockDuration: '10m' })
    await limiter.consume('b')
    const blocked = await limiter.consume('b')
    expect(blocked.allowed).toBe(false)
    expect(blocked.retryAfterMs).toBeGreaterThan(60_000)
    // The store's state is gone, yet this process still knows the block.
    await store.namespace('rate-limiter').rateLimiter().reset('b')
    expect((await limiter.consume('b')).allowed).toBe(false)
    await limiter.clear('b')
    expect((await limiter.consume('b')).allowed).toBe(true)
  })

  test('an insurance limiter answers when the store fails', async () => {
    const insurance = new RateLimiter({ store: memory(), limit: 1, window: '1m' })
    const limiter = new RateLimiter({
      store: failing(memory()),
      limit: 100,
      window: '1m',
      insurance,
    })
    expect((await limiter.consume('i')).allowed).toBe(true)
    expect((await limiter.consume('i')).allowed).toBe(false)
  })

  test('without insurance: throw (default), fail open or fail closed, as chosen', async () => {
    const store = failing(memory())
    const thrower = new RateLimiter({ store, limit: 1, window: '1m' })
    await expect(thrower.consume('f')).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' })
    const open = new RateLimiter({ store, limit: 1, window: '1m', whenStoreFails: 'open' })
    expect(await open.consume('f')).toMatchObject({ allowed: true, retryAfterMs: 0 })
    const closed = new RateLimiter({ store, limit: 1, window: '1m', whenStoreFails: 'closed' })
    expect(await closed.consume('f')).toMatchObject({ allowed: false, retryAfterMs: 60_000 })
  })

  test('a store without atomic counters or with eviction is refused unless accepted by name', () => {
    const base = memory()
    const hide = (capabilities: object): Store<unknown> => {
      const store = { ...base, capabilities: { ...base.capabilities, ...capabilities } }
      return { ...store, namespace: () => store }
    }
    const nonAtomic = hide({ rateLimits: false, atomicCounters: false, evicts: false })
    expect(() => new RateLimiter({ store: nonAtomic, limit: 1, window: 1000 })).toThrow(
      expect.objectContaining({ code: 'E_UNSAFE_STORE' }),
    )
    expect(
      () => new RateLimiter({ store: nonAtomic, limit: 1, window: 1000, accept: ['non-atomic'] }),
    ).not.toThrow()
    const evicting = hide({ rateLimits: false, evicts: true })
    expect(() => new RateLimiter({ store: evicting, limit: 1, window: 1000 })).toThrow(
      expect.objectContaining({ code: 'E_UNSAFE_STORE' }),
    )
    const fallback = hide({ rateLimits: false, evicts: false })
    expect(
      () => new RateLimiter({ store: fallback, limit: 1, window: 1000, algorithm: 'token-bucket' }),
    ).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }))
  })

  test('bad options are typed errors', () => {
    const store = memory()
    for (const bad of [
      { limit: 0, window: 1000 },
      { limit: 1.5, window: 1000 },
      { limit: 1, window: 0 },
      { limit: 1, window: 0.5 },
      { limit: 1, window: 1000, blockDuration: -1 },
    ]) {
      expect(() => new RateLimiter({ store, ...bad })).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^E_INVALID_(LIMIT|ARGUMENT)$/) }),
      )
    }
    expect(() => new RateLimiter({ store, limit: 1, window: 'soon' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})
