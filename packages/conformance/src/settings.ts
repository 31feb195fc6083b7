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
  'readsTtl',
  'listsKeys',
  'evicts',
] as const satisfies ReadonlyArray<keyof ConformanceCapabilities>

/**
 * Every option name accepted (capabilities included; `persistent`, `synchronous` and
 * `rateLimits` too, so a store's whole `capabilities` object can be spread into options).
 */
const OPTION_KEYS: ReadonlySet<string> = new Set([
  ...CAPABILITY_KEYS,
  'persistent',
  'synchronous',
  'rateLimits',
  'name',
  'timing',
  'timeout',
  'sibling',
  'faults',
  'exit',
])

/** True when the options alone declare every capability, so no probe store is needed. */
export function declaresAll(options: ConformanceOptions): boolean {
  return CAPABILITY_KEYS.every((key) => options[key] !== undefined)
}

/** Edit distance between two short names (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution))
    }
    previous = row
  }
  return previous[b.length]!
}

/** The known name closest to `name`, when it is close enough to be a typo of it. */
function closest(name: string, known: Iterable<string>): string | undefined {
  let best: [string, number] | undefined
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (best === undefined || d < best[1]) best = [candidate, d]
  }
  return best !== undefined && best[1] <= Math.max(2, Math.floor(name.length / 4))
    ? best[0]
    : undefined
}

function unknownName(name: string, where: string, known: Iterable<string>): string {
  const guess = closest(name, known)
  return `${where} "${name}" is not one the suite knows${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`
}

/**
 * Everything wrong with `options` and the declared capabilities, in words: unknown (misspelled)
 * option or capability names, and capabilities neither declared nor given.
 */
export function settingsProblems(
  declared: Partial<StoreCapabilities> | undefined,
  options: ConformanceOptions,
): string[] {
  const problems: string[] = []
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) problems.push(unknownName(key, 'option', OPTION_KEYS))
  }
  const declaredNames = new Set<string>([
    ...CAPABILITY_KEYS,
    'persistent',
    'synchronous',
    'rateLimits',
  ])
  for (const key of Object.keys(declared ?? {})) {
    if (!declaredNames.has(key)) {
      problems.push(unknownName(key, 'declared capability', declaredNames))
    }
  }
  for (const key of CAPABILITY_KEYS) {
    if ((options[key] ?? declared?.[key]) === undefined) {
      problems.push(`capability "${key}" is neither declared by the store nor given in options`)
    }
  }
  return problems
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

/**
 * Options over the store's declared capabilities, plus timing and timeout. Throws a TypeError
 * listing every problem (see `settingsProblems`); the suite turns it into one failing test.
 */
export function resolveSettings(
  declared: Partial<StoreCapabilities> | undefined,
  options: ConformanceOptions,
  storeName: string | undefined,
): SuiteSettings {
  const problems = settingsProblems(declared, options)
  if (problems.length > 0) {
    throw new TypeError(`[cellar:conformance] ${problems.join('; ')}`)
  }
  const capabilities = {} as Record<string, unknown>
  for (const key of CAPABILITY_KEYS) capabilities[key] = options[key] ?? declared?.[key]
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
    sibling: options.sibling as SuiteSettings['sibling'],
    faults: options.faults as SuiteSettings['faults'],
    exit: options.exit,
  }
}
