import { describe, expect, test } from 'vitest'
import {
  findMemcached,
  findMysql,
  findPostgres,
  findRedis,
  freePort,
  parseServers,
  ServiceMissingError,
  servicesRequired,
  uniquePrefix,
} from '../src/index.js'

// Env URLs pointing at a loopback port nobody listens on: the finders must treat the server as
// missing without falling back to anything else, whatever runs on this machine.
const closed = await freePort()
const urls = {
  REDIS_URL: `redis://127.0.0.1:${closed}`,
  MEMCACHED_SERVERS: `127.0.0.1:${closed}`,
  PG_URL: `postgres://postgres@127.0.0.1:${closed}/test`,
  MYSQL_URL: `mysql://root@127.0.0.1:${closed}/test`,
}
const finders = [
  [
    'Redis',
    'REDIS_URL',
    (env: Record<string, string>, log?: (line: string) => void) => findRedis({ env, log }),
  ],
  [
    'memcached',
    'MEMCACHED_SERVERS',
    (env: Record<string, string>, log?: (line: string) => void) => findMemcached({ env, log }),
  ],
  [
    'PostgreSQL',
    'PG_URL',
    (env: Record<string, string>, log?: (line: string) => void) => findPostgres({ env, log }),
  ],
  [
    'MariaDB/MySQL',
    'MYSQL_URL',
    (env: Record<string, string>, log?: (line: string) => void) => findMysql({ env, log }),
  ],
] as const

describe.each(finders)('%s at a closed env URL', (name, envVar, find) => {
  const env = { [envVar]: urls[envVar] }

  test('resolves undefined after one loud line naming the variable', async () => {
    const lines: string[] = []
    expect(await find(env, (line) => lines.push(line))).toBeUndefined()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`${name} NOT FOUND`)
    expect(lines[0]).toContain(`${envVar}=${urls[envVar]}`)
    expect(lines[0]).not.toContain('\n')
  })

  test('throws under CELLAR_REQUIRE_SERVICES=1', async () => {
    const lines: string[] = []
    const error = await find({ ...env, CELLAR_REQUIRE_SERVICES: '1' }, (line) =>
      lines.push(line),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ServiceMissingError)
    expect((error as ServiceMissingError).code).toBe('E_SERVICE_MISSING')
    expect((error as Error).message).toContain(envVar)
    expect(lines).toEqual([])
  })

  test('throws under CI=true', async () => {
    await expect(find({ ...env, CI: 'true' })).rejects.toThrow(ServiceMissingError)
  })
})

describe('servicesRequired', () => {
  test('reads CI and CELLAR_REQUIRE_SERVICES', () => {
    expect(servicesRequired({})).toBe(false)
    expect(servicesRequired({ CI: 'false', CELLAR_REQUIRE_SERVICES: '0' })).toBe(false)
    expect(servicesRequired({ CI: 'true' })).toBe(true)
    expect(servicesRequired({ CI: '1' })).toBe(true)
    expect(servicesRequired({ CELLAR_REQUIRE_SERVICES: '1' })).toBe(true)
  })
})

describe('parseServers', () => {
  test('splits a memjs server list and defaults the port', () => {
    expect(parseServers('a:1, b:2 c')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: 'c', port: 11211 },
    ])
    expect(parseServers('[::1]:5')).toEqual([{ host: '::1', port: 5 }])
  })
})

describe('uniquePrefix', () => {
  test('names the test and differs per call', () => {
    const prefix = uniquePrefix('redis')
    expect(prefix).toMatch(/^cellar-test:redis:[0-9a-f]+:$/)
    expect(uniquePrefix('redis')).not.toBe(prefix)
  })
})
