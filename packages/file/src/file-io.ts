import { createHash, randomBytes } from 'node:crypto'
import { readFile as readFileCallback, writeFile as writeFileCallback } from 'node:fs'
import { link, mkdir, rename, unlink } from 'node:fs/promises'
import { dirname, sep } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BackendUnavailableError } from '@cellar/core'
import lockfile from 'proper-lockfile'
import { errorCode } from './errors.js'

/** Suffix of the per-name lock state file (holder, expiry and fencing counter). */
export const FENCE_SUFFIX = '.fence'
/** Suffix of files being written (or being removed) that are not entries yet (or any more). */
export const TEMP_SUFFIX = '.tmp'
/** proper-lockfile's mutex: a directory named after the file it guards. */
export const MUTEX_SUFFIX = '.lock'

const ENTRY_NAME = /^[0-9a-f]{64}$/

/** True for a file name the store uses for a cache entry. */
export function isEntryName(name: string): boolean {
  return ENTRY_NAME.test(name)
}

/**
 * Maps keys to paths: the SHA-256 of the prefixed key in hex, so no key can name a path
 * outside the directory, optionally fanned out into 256 subdirectories by its first byte.
 */
export function keyPath(directory: string, fanOut: boolean, fullKey: Buffer): string {
  const hex = createHash('sha256').update(fullKey).digest('hex')
  return fanOut ? `${directory}${sep}${hex.slice(0, 2)}${sep}${hex}` : `${directory}${sep}${hex}`
}

// A random per-process stem plus a counter: unique names without a crypto call per write.
const stem = randomBytes(6).toString('hex')
let sequence = 0

function tempPath(path: string): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER
  return `${path}.${stem}${sequence.toString(36)}${TEMP_SUFFIX}`
}

/** Reads a whole file; resolves `undefined` when it does not exist. */
export function readIfExists(path: string): Promise<Buffer | undefined> {
  // The callback readFile: on Node 20 it reads a small file in about half the time of
  // fs/promises' readFile, which goes through a FileHandle and several round trips.
  return new Promise((resolve, reject) => {
    readFileCallback(path, (error, data) => {
      if (error === null) resolve(data)
      else if (error.code === 'ENOENT') resolve(undefined)
      else reject(error)
    })
  })
}

/** Creates a file that must not exist yet (`wx`) and writes `bytes` to it. */
function createFile(path: string, bytes: Uint8Array): Promise<void> {
  // The callback writeFile, for the same reason as readIfExists: fewer round trips.
  return new Promise((resolve, reject) => {
    writeFileCallback(path, bytes, { flag: 'wx' }, (error) =>
      error === null ? resolve() : reject(error),
    )
  })
}

/**
 * Writes to a temporary file in the same directory, then renames it over `path`: readers see
 * the old file or the new one, never part of one. A failed write leaves no temporary behind.
 */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = tempPath(path)
  try {
    try {
      await createFile(temp, bytes)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
      await mkdir(dirname(temp), { recursive: true })
      await createFile(temp, bytes)
    }
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

/** Removes a file; resolves whether it was there. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path)
    return true
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw error
  }
}

/**
 * Moves the file at `path` aside, reads what was moved and deletes it; resolves its bytes, or
 * `undefined` if there was none. Renaming first means we judge exactly the file we remove.
 */
export async function take(path: string): Promise<Buffer | undefined> {
  const grave = tempPath(path)
  try {
    await rename(path, grave)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    return (await readIfExists(grave).catch(() => undefined)) ?? Buffer.alloc(0)
  } finally {
    await unlink(grave).catch(() => {})
  }
}

/**
 * Removes an expired or corrupt file without a lock and without losing a fresh write that
 * raced in: the file is moved aside and re-checked; if it turned out live it is linked back
 * (unless a newer file took the name meanwhile). Never throws: a miss is a miss either way.
 */
export async function discard(path: string, isDead: (file: Buffer) => boolean): Promise<boolean> {
  const grave = tempPath(path)
  try {
    await rename(path, grave)
  } catch {
    return false
  }
  try {
    const file = await readIfExists(grave).catch(() => undefined)
    if (file !== undefined && !isDead(file)) {
      await link(grave, path).catch(() => {})
      return false
    }
    return true
  } finally {
    await unlink(grave).catch(() => {})
  }
}

// The tail of each path's in-process queue (shared by every FileStore of this process).
const queues = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` while holding the cross-process mutex of `path` (proper-lockfile: an exclusive
 * `mkdir` of `<path>.lock`, refreshed while held, taken over once older than `staleMs`).
 * Callers in this process queue up for it in order, so only other processes are met with
 * jittered back-off; that wait lasts up to twice `staleMs`, then throws `E_BACKEND_UNAVAILABLE`.
 */
export function withMutex<T>(
  path: string,
  staleMs: number,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  const turn = () => withFileMutex(path, staleMs, key, fn)
  const previous = queues.get(path)
  const run = previous === undefined ? turn() : previous.then(turn)
  const tail = run.then(
    () => {},
    () => {},
  )
  queues.set(path, tail)
  void tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path)
  })
  return run
}

async function withFileMutex<T>(
  path: string,
  staleMs: number,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + 2 * staleMs
  let release: () => Promise<void>
  for (let attempt = 0; ; attempt++) {
    try {
      release = await lockfile.lock(path, {
        realpath: false,
        stale: staleMs,
        retries: 0,
        lockfilePath: `${path}${MUTEX_SUFFIX}`,
        // Our critical sections are one read and one rename; a takeover can only follow an
        // event loop stalled past `staleMs`, and throwing from a timer would crash the host.
        onCompromised: () => {},
      })
      break
    } catch (error) {
      const code = errorCode(error)
      if (code === 'ENOENT') {
        await mkdir(dirname(path), { recursive: true })
        continue
      }
      if (code !== 'ELOCKED') throw error
      if (Date.now() >= deadline) {
        throw new BackendUnavailableError(
          `[cellar:file] the mutex for key "${key.slice(0, 64)}" stayed held for ${2 * staleMs}ms`,
          { key, cause: error },
        )
      }
      const ceiling = Math.min(2 ** Math.min(attempt, 5), 25)
      await sleep(1 + Math.random() * ceiling)
    }
  }
  try {
    return await fn()
  } finally {
    // ERELEASED after a takeover: there is nothing left to give back.
    await release().catch(() => {})
  }
}
