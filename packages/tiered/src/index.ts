export type { TieredStoreOptions } from './tiered-store.js'
export { TieredStore } from './tiered-store.js'
