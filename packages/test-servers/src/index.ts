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
export { findBinary, freePort } from './spawn.js'
export { findMysql, findPostgres, useMysql, usePostgres } from './sql.js'
export type {
  FindOptions,
  MemcachedServer,
  RedisServer,
  ServerEnv,
  ServerHandle,
  ServerSource,
  SqlConnection,
  SqlDatabase,
  StartOptions,
} from './types.js'
