export { assertUnavailable, failure, recovered } from './faults.js'
export {
  canStartMemcached,
  findMemcached,
  parseServers,
  startMemcached,
  useMemcached,
} from './memcached.js'
export { uniquePrefix } from './prefix.js'
export { PROBE_TIMEOUT_MS, pingMemcached, pingRedis } from './probe.js'
export { canStartRedis, findRedis, startRedis, useRedis } from './redis.js'
export { ServiceMissingError, servicesRequired } from './require.js'
export { canStartRedisSentinel, startRedisSentinel } from './sentinel.js'
export { findBinary, freePort } from './spawn.js'
export { findMysql, findPostgres, useMysql, usePostgres } from './sql.js'
export type {
  FindOptions,
  MemcachedServer,
  RedisSentinelServer,
  RedisServer,
  SentinelStartOptions,
  ServerEnv,
  ServerHandle,
  ServerSource,
  SqlConnection,
  SqlDatabase,
  StartOptions,
} from './types.js'
