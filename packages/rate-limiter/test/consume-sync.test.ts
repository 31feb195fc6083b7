import { BackendUnavailableError, isCellarError, type Store } from '@cellar/core'
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

// The memory store seen as one that answers with promises only (no synchronous capability).
function promisesOnly(store: MemoryStore): Store<unknown> {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'capabilities') return { ...target.capabilities, synchronous: false }
      if (property === 'namespace') return (name: string) => promisesOnly(target.namespace(name))
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as Store<unknown>
}

// A synchronous store whose in-process step fails as a backend failure would.
function failingSync(store: MemoryStore): Store<unknown> {
  const fail = () => {
    throw new BackendUnavailableError('[cellar:test] gone')
  }
  const reject = async () => fail()
  const backend = {
    fixedWindow: reject,
    slidingWindow: reject,
    tokenBucket: reject,
    reset: reject,
    decideSync: fail,
  }
  return { ...store, name: 'failing', namespace: () => ({ ...store, rateLimiter: () => backend }) }
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    return isCellarError(error) ? error.code : 'not a CellarError'
  }
  return undefined
}

describe('consumeSync', () => {
  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
    test(`${algorithm}: exact counts, on the same state as consume`, async () => {
      let now = 5_000_000
      const limiter = new RateLimiter({
        store: memory(() => now),
        algorithm,
        limit: 3,
        window: 1_000,
      })
      expect(limiter.consumeSync('k').remaining).toBe(2)
      expect((await limiter.consume('k')).remaining).toBe(1)
      expect(limiter.consumeSync('k')).toMatchObject({ allowed: true, remaining: 0 })
      const refused = limiter.consumeSync('k')
      expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0 })
      expect(refused.retryAfterMs).toBeGreaterThan(0)
      expect((await limiter.consume('k')).allowed).toBe(false)
      now += 2_000
      expect(limiter.consumeSync('k').allowed).toBe(true)
    })
  }

  test('bad input throws the typed error synchronously, and nothing is taken', () => {
    const limiter = new RateLimiter({ store: memory(), limit: 1, window: '1m' })
    expect(codeOf(() => limiter.consumeSync(''))).toBe('E_INVALID_KEY')
    expect(codeOf(() => limiter.consumeSync('k', 0))).toBe('E_INVALID_LIMIT')
    expect(codeOf(() => limiter.consumeSync('k', 1.5))).toBe('E_INVALID_LIMIT')
    expect(limiter.consumeSync('k').allowed).toBe(true)
  })

  test('a bad key is refused by consume and consumeSync alike, with and without a block cache', async () => {
    for (const blockDuration of [0, 1_000]) {
      for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
        const limiter = new RateLimiter({
          store: memory(),
          algorithm,
          limit: 1,
          window: '1m',
          blockDuration,
        })
        limiter.consumeSync('held')
        for (const bad of ['', '\ud800', 7 as unknown as string]) {
          for (const points of [1, 2]) {
            expect(codeOf(() => limiter.consumeSync(bad, points))).toBe('E_INVALID_KEY')
            await expect(limiter.consume(bad, points)).rejects.toMatchObject({
              code: 'E_INVALID_KEY',
            })
          }
        }
      }
    }
  })

  test('a store that answers with promises: E_UNSUPPORTED naming the store; consume still works', async () => {
    const limiter = new RateLimiter({ store: promisesOnly(memory()), limit: 1, window: '1m' })
    expect(codeOf(() => limiter.consumeSync('k'))).toBe('E_UNSUPPORTED')
    expect(() => limiter.consumeSync('k')).toThrow(/answers with promises/)
    expect((await limiter.consume('k')).allowed).toBe(true)
  })

  test('a closed store throws; a failing one throws or answers open/closed as chosen', async () => {
    const store = memory()
    const limiter = new RateLimiter({ store, limit: 1, window: '1m' })
    await store.close()
    expect(codeOf(() => limiter.consumeSync('k'))).toBeDefined()
    const thrower = new RateLimiter({ store: failingSync(memory()), limit: 1, window: '1m' })
    expect(codeOf(() => thrower.consumeSync('k'))).toBe('E_BACKEND_UNAVAILABLE')
    await expect(thrower.consume('k')).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' })
    const open = new RateLimiter({
      store: failingSync(memory()),
      limit: 1,
      window: '1m',
      whenStoreFails: 'open',
    })
    expect(open.consumeSync('k')).toMatchObject({ allowed: true, retryAfterMs: 0 })
    const closed = new RateLimiter({
      store: failingSync(memory()),
      limit: 1,
      window: '1m',
      whenStoreFails: 'closed',
    })
    expect(closed.consumeSync('k')).toMatchObject({ allowed: false, retryAfterMs: 60_000 })
  })
})

describe('consume on a store that decides in process', () => {
  test('resolves one already-settled promise: its result is there after one microtask', async () => {
    const limiter = new RateLimiter({ store: memory(), limit: 5, window: '1m' })
    let settled = false
    const pending = limiter.consume('k').then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(true)
    await pending
  })

  test('over a store that answers with promises it takes longer (the chain the fast path skips)', async () => {
    const limiter = new RateLimiter({ store: promisesOnly(memory()), limit: 5, window: '1m' })
    let settled = false
    const pending = limiter.consume('k').then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    await pending
    expect(settled).toBe(true)
  })
})
