import {
  InvalidArgumentError,
  parseDuration,
  resolveTtl,
  type StoreCapabilities,
  type Ttl,
} from '@cellar/core'
import { LRUCache } from 'lru-cache'
import { MemoryLockBackend } from './memory-lock.js'
import { MemoryRateLimits } from './memory-rate-limit.js'
import type { MemoryStoreOptions } from './memory-store.js'
import type { RawEntry } from './raw-entry.js'

/** The LRU every handle of one root store shares. */
export type Lru = LRUCache<string, NonNullable<unknown>>

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

// What a root store creates and its namespaces share.
export interface Root {
  readonly lru: Lru
  readonly locks: MemoryLockBackend
  readonly limits: MemoryRateLimits
  readonly capabilities: StoreCapabilities
  readonly raw: boolean
  readonly defaultTtl: Ttl
  readonly sizeOf: ((value: unknown) => number) | undefined
  timer: NodeJS.Timeout | undefined
}

/** Checks the options and builds what a root store owns. */
export function createRoot(options: MemoryStoreOptions): Root {
  const raw = options.raw ?? false
  const defaultTtl = options.defaultTtl ?? null
  resolveTtl(defaultTtl) // refuse a bad default up front
  const maxEntries = options.maxEntries ?? 10_000
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new InvalidArgumentError('[cellar:memory] maxEntries must be a positive integer')
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new InvalidArgumentError('[cellar:memory] maxBytes must be a positive integer')
  }
  const { sizeOf } = options
  const countsBytes = !raw || sizeOf !== undefined
  const maxValueSize = countsBytes
    ? Math.min(options.maxValueSize ?? Math.floor(maxBytes / 4), maxBytes)
    : Number.POSITIVE_INFINITY
  if (!(maxValueSize > 0)) {
    throw new InvalidArgumentError('[cellar:memory] maxValueSize must be positive')
  }
  const every = options.pruneInterval ?? 60_000
  const sweepMs = every === false ? undefined : parseDuration(every, 'pruneInterval')
  // lru-cache reads a start time of 0 as "no TTL", so an injected clock is shifted to start at 1.
  const source = options.now
  const origin = source?.() ?? 0
  const now = source === undefined ? () => performance.now() : () => source() - origin + 1
  const lru: Lru = new LRUCache<string, NonNullable<unknown>>({
    max: maxEntries,
    ...(countsBytes && {
      maxSize: maxBytes,
      sizeCalculation: (value: unknown, key: string) =>
        key.length +
          (sizeOf === undefined
            ? (value as Uint8Array).byteLength
            : sizeOf((value as RawEntry).value)) || 1,
    }),
    // The default clock: lru-cache's own, whose reading reads reuse until a 1 ms timer clears
    // it (a clock call costs more than a whole lookup). An injected clock is read every time.
    ...(source !== undefined && { ttlResolution: 0, perf: { now } }),
  })
  const capabilities: StoreCapabilities = Object.freeze({
    atomicCounters: true,
    atomicAdd: true,
    locks: true,
    sharedAcrossProcesses: false,
    persistent: false,
    retainsValues: true,
    raw,
    maxKeyLength: Number.POSITIVE_INFINITY,
    maxValueSize,
    // Reads reuse the default clock's reading for about a millisecond (see the README).
    ttlPrecision: source === undefined ? 2 : 1,
    synchronous: true,
    readsTtl: true,
    listsKeys: true,
    evicts: true,
    rateLimits: true,
  })
  const root: Root = {
    lru,
    locks: new MemoryLockBackend(now),
    // Limiter windows follow the wall clock (aligned windows line up with it) unless injected.
    limits: new MemoryRateLimits(source ?? Date.now),
    capabilities,
    raw,
    defaultTtl,
    sizeOf,
    timer: undefined,
  }
  if (sweepMs !== undefined) {
    root.timer = setInterval(() => lru.purgeStale(), sweepMs)
    root.timer.unref()
  }
  return root
}
