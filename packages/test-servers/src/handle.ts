import type { SpawnedServer } from './spawn.js'
import type { ServerHandle, ServerSource } from './types.js'

/** Lifecycle of a server this process did not start: it refuses to be stopped or restarted. */
export function externalLifecycle(
  name: string,
  where: string,
  source: ServerSource,
): Pick<ServerHandle, 'stop' | 'start'> {
  const refuse = async () => {
    throw new Error(
      `[cellar:test-servers] ${name} at ${where} (${source}) was not started by this process; use start${name}() for a server you may stop`,
    )
  }
  return { stop: refuse, start: refuse }
}

/** Lifecycle of a spawned server, bound so it can be passed around as plain functions. */
export function spawnedLifecycle(server: SpawnedServer): Pick<ServerHandle, 'stop' | 'start'> {
  return { stop: () => server.stop(), start: () => server.start() }
}

/** Host of a URL without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
