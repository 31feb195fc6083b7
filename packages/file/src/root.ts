import { resolve } from 'node:path'
import {
  type Duration,
  InvalidArgumentError,
  parseDuration,
  StoreClosedError,
  type Ttl,
} from '@cellar/core'
import { fileError } from './errors.js'
import { FileLockBackend } from './file-lock.js'
import { pruneDirectory } from './sweep.js'

/** Options of `FileStore`; only `directory` is required. */
export interface FileStoreOptions {
  /** The directory that holds the files (created on first write). Give each cache its own. */
  directory: string
  /**
   * Every key of this store is stored (and hashed) under this prefix.
   * @default ''
   */
  prefix?: string
  /**
   * TTL used when a write omits one; `null` keeps entries until deleted.
   * @default null
   */
  defaultTtl?: Ttl
  /**
   * How often expired and unreadable files are swept (reads drop them lazily anyway);
   * `false` disables. Each sweep reads the header of every file in the directory.
   * @default 300_000 (5 minutes)
   */
  pruneInterval?: Duration | false
  /**
   * Largest value accepted; larger writes throw `E_VALUE_TOO_LARGE`.
   * @default 16_777_216 (16 MiB)
   */
  maxValueSize?: number
  /**
   * Spread files over 256 subdirectories by the first byte of their hash, which keeps
   * directories small when a cache holds hundreds of thousands of entries.
   * @default true
   */
  fanOut?: boolean
  /**
   * A cross-process mutex (for `add`, `increment`, `touch`, locks) whose holder stopped
   * refreshing it this long ago is taken over; at least 2s (proper-lockfile's floor).
   * @default 10_000
   */
  staleMutexAfter?: Duration
  /**
   * The wall clock in milliseconds since the epoch; every process on the directory must agree.
   * @default Date.now
   */
  now?: () => number
}

/**
 * What the constructed store and every namespace made from it share: the directory, its
 * settings, the lock backend, the prune timer and the one closed flag of the root.
 */
export interface Root {
  readonly directory: string
  readonly fanOut: boolean
  readonly staleMs: number
  readonly now: () => number
  readonly locks: FileLockBackend
  timer: NodeJS.Timeout | undefined
  pruning: Promise<number> | undefined
  closed: boolean
}

/** Checks the root-only options and starts the prune timer (unref'd). */
export function openRoot(options: FileStoreOptions): Root {
  const staleMs = parseDuration(options.staleMutexAfter ?? 10_000, 'staleMutexAfter')
  if (!(staleMs >= 2_000)) {
    throw new InvalidArgumentError(
      `[cellar:file] staleMutexAfter must be at least 2000ms, got ${staleMs}`,
    )
  }
  const every = options.pruneInterval ?? 300_000
  const pruneMs = every === false ? undefined : parseDuration(every, 'pruneInterval')
  if (pruneMs !== undefined && !(pruneMs > 0)) {
    throw new InvalidArgumentError('[cellar:file] pruneInterval must be positive')
  }
  const now = options.now ?? Date.now
  const directory = resolve(options.directory)
  const fanOut = options.fanOut ?? true
  const root: Root = {
    directory,
    fanOut,
    staleMs,
    now,
    locks: new FileLockBackend({
      directory,
      fanOut,
      staleMs,
      now,
      assertOpen: () => {
        if (root.closed) throw new StoreClosedError('[cellar:file] store is closed')
      },
    }),
    timer: undefined,
    pruning: undefined,
    closed: false,
  }
  if (pruneMs !== undefined) {
    // A failed background sweep is retried at the next tick; reads stay correct meanwhile.
    root.timer = setInterval(() => void pruneRoot(root).catch(() => {}), pruneMs)
    root.timer.unref()
  }
  return root
}

/** Sweeps the directory once; a sweep already running is joined rather than doubled. */
export function pruneRoot(root: Root): Promise<number> {
  if (root.pruning !== undefined) return root.pruning
  const run = pruneDirectory(root.directory, root.now).catch((error: unknown) => {
    throw fileError('prune', error)
  })
  root.pruning = run.finally(() => {
    root.pruning = undefined
  })
  return root.pruning
}

/** Marks the root closed, stops the timer and waits for a sweep in flight. Idempotent. */
export async function closeRoot(root: Root): Promise<void> {
  if (root.closed) return
  root.closed = true
  clearInterval(root.timer)
  root.timer = undefined
  await root.pruning?.catch(() => {})
}
