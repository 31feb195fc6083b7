export { RedisStore } from './redis-store.js'
export type { RedisClient, RedisStoreOptions } from './types.js'
