import { describeLimiter, type LimiterSpec } from '@cellar/conformance'
import type { Store } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { describe, test } from 'vitest'
import { RateLimiter } from '../src/index.js'

const options = (store: Store<unknown>, spec: LimiterSpec) => ({
  store,
  algorithm: spec.algorithm,
  limit: spec.limit,
  window: spec.windowMs,
  blockDuration: spec.blockMs,
})

// The native step on a fake clock: no test sleeps, and the clock can jump back.
describeLimiter(
  { describe, test },
  () => {
    let now = Date.now()
    const store = new MemoryStore({ now: () => now })
    return {
      // The in-process block cache reads the real clock; the store's own block is under test.
      limiter: (spec) => new RateLimiter({ ...options(store, spec), blockCache: false }),
      advance: (ms) => {
        now += ms
      },
      now: () => now,
      close: () => store.close(),
    }
  },
  { name: 'memory, native step, fake clock' },
)

// The native step on the real clock, with the block cache on.
describeLimiter(
  { describe, test },
  () => {
    const store = new MemoryStore()
    return {
      limiter: (spec) => new RateLimiter(options(store, spec)),
      close: () => store.close(),
    }
  },
  { name: 'memory, native step, real clock' },
)

// The counter fallback (add + increment), over a store that hides its native step.
describeLimiter(
  { describe, test },
  () => {
    const memory = new MemoryStore()
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        if (property === 'capabilities') return { ...target.capabilities, rateLimits: false }
        if (property === 'namespace') {
          return (name: string) => new Proxy(target.namespace(name), this)
        }
        const value = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Store<unknown>
    return {
      limiter: (spec) => new RateLimiter({ ...options(store, spec), accept: ['evicting'] }),
      close: () => memory.close(),
    }
  },
  { name: 'memory, counter fallback', algorithms: ['fixed-window', 'sliding-window'] },
)
