import type { StoreCapabilities } from '@cellar/core'
import type { ConformanceCapabilities, ConformanceOptions, SuiteSettings, Timing } from './types.js'

/** Every capability the suite reads, in a stable order. */
export const CAPABILITY_KEYS = [
  'atomicCounters',
  'atomicAdd',
  'locks',
  'sharedAcrossProcesses',
  'retainsValues',
  'raw',
  'maxKeyLength',
  'maxValueSize',
  'ttlPrecision',
] as const satisfies ReadonlyArray<keyof ConformanceCapabilities>

/** True when the options alone declare every capability, so no probe store is needed. */
export function declaresAll(options: ConformanceOptions): boolean {
  return CAPABILITY_KEYS.every((key) => options[key] !== undefined)
}

/**
 * Expiry waits for a TTL granularity. Generous on purpose (loaded CI machines): a 1 ms store
 * writes ttl 400 and is checked at 150 and 700; a 1 s store writes 1000, checked at 300 and 2200.
 */
export function defaultTiming(ttlPrecision: number): Timing {
  const precision = Math.max(1, ttlPrecision)
  const ttl = Math.max(400, precision)
  return {
    ttl,
    beforeExpiry: Math.max(150, Math.round(ttl * 0.3)),
    afterExpiry: ttl + Math.max(300, Math.round(precision * 1.2)),
  }
}

/** Options over the store's declared capabilities, plus timing and timeout. */
export function resolveSettings(
  declared: Partial<StoreCapabilities> | undefined,
  options: ConformanceOptions,
  storeName: string | undefined,
): SuiteSettings {
  const capabilities = {} as Record<string, unknown>
  for (const key of CAPABILITY_KEYS) {
    const value = options[key] ?? declared?.[key]
    if (value === undefined) {
      throw new TypeError(
        `[cellar:conformance] capability "${key}" is neither declared by the store nor given in options`,
      )
    }
    capabilities[key] = value
  }
  const caps = capabilities as unknown as ConformanceCapabilities
  const timing = { ...defaultTiming(caps.ttlPrecision), ...options.timing }
  if (!(timing.beforeExpiry < timing.ttl && timing.ttl < timing.afterExpiry)) {
    throw new TypeError('[cellar:conformance] timing must satisfy beforeExpiry < ttl < afterExpiry')
  }
  return {
    name: options.name ?? storeName ?? 'store',
    capabilities: caps,
    timing,
    timeout: options.timeout ?? 15_000 + 4 * timing.afterExpiry,
    sibling: options.sibling,
  }
}
