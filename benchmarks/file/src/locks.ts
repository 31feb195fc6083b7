import { mkdir, rmdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Lock, LockOptions } from '@cellar/core'
import type { Contender } from './contenders.js'

/** What a lock contender needs of a store: `lock(name, options)`, as every cellar store has. */
interface Locking {
  lock(name: string, options?: LockOptions): Lock
}

/**
 * Acquire + release of one lock, uncontended: the raw exclusive-create primitives a file lock
 * is made of (no expiry, no fencing, no stale takeover) against cellar's `FileStore` lock.
 */
export function lockContenders(
  directory: string,
  stores: ReadonlyArray<readonly [string, Locking]>,
): Contender[] {
  const holder = join(directory, 'raw.lock')
  const mutex = join(directory, 'raw.mutex')
  const contenders: Contender[] = [
    {
      name: 'plain fs: writeFile(wx) of an owner file + unlink',
      prepare: () => mkdir(directory, { recursive: true }).then(() => {}),
      lock: async () => {
        await writeFile(holder, 'owner', { flag: 'wx' })
        await unlink(holder)
      },
    },
    {
      name: 'plain fs: mkdir + rmdir (the mutex primitive alone)',
      prepare: async () => {},
      lock: async () => {
        await mkdir(mutex)
        await rmdir(mutex)
      },
    },
  ]
  for (const [name, store] of stores) {
    contenders.push({
      name,
      prepare: async () => {},
      lock: async () => {
        const lock = store.lock('report', { ttl: '30s' })
        if ((await lock.acquire()) === false)
          throw new Error(`${name}: an uncontended lock was refused`)
        await lock.release()
      },
    })
  }
  return contenders
}
