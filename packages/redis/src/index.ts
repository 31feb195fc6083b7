export { redisDriver } from './driver.js'
export type { EvictionPolicy } from './eviction.js'
export { RedisStore } from './redis-store.js'
export type { RedisClient, RedisStoreOptions } from './types.js'
