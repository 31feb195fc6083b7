import type { FindOptions, ServerEnv } from './types.js'

/** Thrown instead of skipping when CI=true or CELLAR_REQUIRE_SERVICES=1 and a server is missing. */
export class ServiceMissingError extends Error {
  readonly code = 'E_SERVICE_MISSING'
  override name = 'ServiceMissingError'
}

/** True when a missing server must fail the run (CI=true or CELLAR_REQUIRE_SERVICES=1). */
export function servicesRequired(env: ServerEnv = process.env): boolean {
  const flag = (value: string | undefined) => value === '1' || value?.toLowerCase() === 'true'
  return flag(env.CI) || flag(env.CELLAR_REQUIRE_SERVICES)
}

/** Resolved lookup options with their defaults applied. */
export interface Lookup {
  env: ServerEnv
  spawn: boolean
  log: (line: string) => void
}

export function lookup(options: FindOptions = {}): Lookup {
  return {
    env: options.env ?? process.env,
    spawn: options.spawn ?? true,
    log: options.log ?? ((line) => console.warn(line)),
  }
}

/**
 * Reports a missing server: one loud line, then `undefined` (skip) or a throw (required).
 * `what` names the service, `how` says how to provide it.
 */
export function missing(found: Lookup, what: string, how: string): undefined {
  const required = servicesRequired(found.env)
  const line = `[cellar:test-servers] ${what} NOT FOUND — ${required ? 'failing (CI=true or CELLAR_REQUIRE_SERVICES=1)' : 'SKIPPING its tests'}. ${how}`
  if (required) throw new ServiceMissingError(line)
  found.log(line)
  return undefined
}
