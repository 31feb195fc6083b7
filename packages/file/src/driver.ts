import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreDriver } from '@cellar/core'
import { FileStore } from './file-store.js'

/**
 * `CACHE_STORE=file`: a `FileStore` in `CACHE_FILE_PATH` (default: `cellar-cache` in the
 * system's temporary directory).
 */
export const fileDriver: StoreDriver = {
  name: 'file',
  packageName: '@cellar/file',
  create(env) {
    const directory = env.CACHE_FILE_PATH?.trim() || join(tmpdir(), 'cellar-cache')
    return new FileStore({ directory })
  },
}
