export { memoryDriver } from './driver.js'
export { MemoryLockBackend } from './memory-lock.js'
export type { MemoryStoreConstructor, MemoryStoreOptions } from './memory-store.js'
export { MemoryStore } from './memory-store.js'
