import { type DriverEnv, InvalidArgumentError, type StoreDriver } from '@cellar/core'
import { MemoryStore } from './memory-store.js'

function positive(env: DriverEnv, name: string): number | undefined {
  const text = env[name]?.trim()
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `[cellar:memory] ${name} must be a positive integer, got ${JSON.stringify(env[name])}`,
    )
  }
  return value
}

/**
 * `CACHE_STORE=memory`: an in-process `MemoryStore` in byte mode. Reads `CACHE_MEMORY_MAX_ENTRIES`
 * and `CACHE_MEMORY_MAX_BYTES` when set.
 */
export const memoryDriver: StoreDriver = {
  name: 'memory',
  packageName: '@cellar/memory',
  create(env) {
    const maxEntries = positive(env, 'CACHE_MEMORY_MAX_ENTRIES')
    const maxBytes = positive(env, 'CACHE_MEMORY_MAX_BYTES')
    return new MemoryStore({
      ...(maxEntries !== undefined && { maxEntries }),
      ...(maxBytes !== undefined && { maxBytes }),
    })
  },
}
