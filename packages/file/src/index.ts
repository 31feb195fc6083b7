export type { FileLockContext } from './file-lock.js'
export { FileLockBackend } from './file-lock.js'
export { FileStore } from './file-store.js'
export type { FileStoreOptions } from './root.js'
