import { InvalidArgumentError, resolveTtl, type StoreCapabilities, type Ttl } from '@cellar/core'
import type { RedisStoreOptions } from './types.js'
import { positive } from './values.js'

// Redis's own limit on a string value.
const REDIS_MAX_STRING = 512 * 1024 * 1024

/** A `RedisStore`'s options, checked, with its defaults applied and its capabilities. */
export interface StoreSettings {
  readonly prefix: string
  readonly lockPrefix: string
  readonly defaultTtl: Ttl
  readonly maxKeyLength: number
  readonly maxValueSize: number
  readonly capabilities: StoreCapabilities
  /** The lock prefix when `clear()` would otherwise match lock keys. */
  readonly spare: Buffer | undefined
}

/** Checks the options a store (or a namespace) is built from; throws `E_INVALID_ARGUMENT`. */
export function storeSettings(options: RedisStoreOptions): StoreSettings {
  const prefix = options.prefix ?? 'cellar:'
  const lockPrefix = options.lockPrefix ?? 'cellar-lock:'
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError(`[cellar:redis] prefix must be a string, got ${typeof prefix}`)
  }
  if (typeof lockPrefix !== 'string' || lockPrefix.length === 0) {
    throw new InvalidArgumentError('[cellar:redis] lockPrefix must be a non-empty string')
  }
  // A lone surrogate reaches Redis as U+FFFD, so 'a\uD800' and 'a\uDBFF' would share their keys.
  for (const [what, value] of [
    ['prefix', prefix],
    ['lockPrefix', lockPrefix],
  ] as const) {
    if (!value.isWellFormed()) {
      throw new InvalidArgumentError(
        `[cellar:redis] ${what} ${JSON.stringify(value)} has a lone UTF-16 surrogate; it must be well-formed text`,
      )
    }
  }
  const defaultTtl = options.defaultTtl ?? null
  resolveTtl(defaultTtl) // refuse a bad default up front
  const maxKeyLength = positive('maxKeyLength', options.maxKeyLength ?? Number.POSITIVE_INFINITY)
  const maxValueSize = positive('maxValueSize', options.maxValueSize ?? REDIS_MAX_STRING)
  const capabilities: StoreCapabilities = Object.freeze({
    atomicCounters: true,
    atomicAdd: true,
    locks: true,
    sharedAcrossProcesses: true,
    persistent: options.persistent ?? false,
    retainsValues: true,
    raw: false,
    maxKeyLength,
    maxValueSize,
    ttlPrecision: 1,
    readsTtl: true,
    listsKeys: true,
    evicts: options.evicts ?? false,
    rateLimits: true,
  })
  if (prefix.startsWith(lockPrefix)) {
    throw new InvalidArgumentError(
      `[cellar:redis] prefix "${prefix}" lies inside lockPrefix "${lockPrefix}": cache keys and lock keys would mix`,
    )
  }
  const spare = lockPrefix.startsWith(prefix) ? Buffer.from(lockPrefix) : undefined
  return { prefix, lockPrefix, defaultTtl, maxKeyLength, maxValueSize, capabilities, spare }
}
