import { fileURLToPath } from 'node:url'
import type { ExitCheck, FaultHook } from '@cellar/conformance'
import { canStartRedis, type RedisServer, startRedis, uniquePrefix } from '@cellar/test-servers'
import { RedisStore } from '../src/index.js'

/**
 * The conformance faults hook: stores with default options on a private redis-server (started
 * on first use, on a free port), which `stop()` kills and `start()` brings back on that port.
 * `undefined` when no redis-server binary is on PATH.
 */
export function redisFaults(): FaultHook | undefined {
  if (!canStartRedis()) return undefined
  let server: Promise<RedisServer> | undefined
  const started = () => {
    server ??= startRedis()
    return server
  }
  return {
    factory: async () =>
      new RedisStore({ connection: (await started()).url, prefix: uniquePrefix('redis-faults') }),
    stop: async () => (await started()).stop(),
    start: async () => (await started()).start(),
  }
}

/** The conformance exit check: a child builds a RedisStore on `url` from `exit-child.ts`. */
export function redisExit(url: string): ExitCheck {
  return {
    module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: { CELLAR_EXIT_REDIS_URL: url },
  }
}
