import { UnsupportedError } from '@cellar/core'
import { type CacheFromEnvOptions, cacheFromEnv } from './env.js'
import type { CacheManager } from './manager.js'

let bound: CacheManager<string> | undefined
let lazy: CacheFromEnvOptions | undefined

function current(): CacheManager<string> {
  if (bound !== undefined) return bound
  if (lazy !== undefined) {
    bound = cacheFromEnv(lazy)
    return bound
  }
  throw new UnsupportedError(
    '[cellar:cache] Cache is not bound: call Cache.bind(createCache(...)) or Cache.bindFromEnv({ drivers }) at start-up',
  )
}

/** The module-level facade's own methods. */
export interface CacheFacadeControl {
  /** Binds the facade to a cache (e.g. at start-up). */
  bind(cache: CacheManager<string>): void
  /** Binds lazily: the cache is built from the environment on first use. */
  bindFromEnv(options: CacheFromEnvOptions): void
  /** Forgets the bound cache (does not close it). */
  unbind(): void
  /** The bound cache. */
  instance(): CacheManager<string>
}

/**
 * Laravel's `Cache::get(...)` style for apps that want it: every method of the bound
 * `CacheManager`, plus `bind`/`bindFromEnv`/`unbind`/`instance`.
 */
export const Cache: CacheManager<string> & CacheFacadeControl = new Proxy(
  {
    bind(cache: CacheManager<string>): void {
      bound = cache
      lazy = undefined
    },
    bindFromEnv(options: CacheFromEnvOptions): void {
      bound = undefined
      lazy = options
    },
    unbind(): void {
      bound = undefined
      lazy = undefined
    },
    instance: current,
  } satisfies CacheFacadeControl,
  {
    get(control, property, receiver) {
      if (Object.hasOwn(control, property)) return Reflect.get(control, property, receiver)
      const cache = current()
      const value = Reflect.get(cache, property, cache)
      return typeof value === 'function' ? value.bind(cache) : value
    },
  },
) as CacheManager<string> & CacheFacadeControl
