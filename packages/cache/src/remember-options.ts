import type { Bus, Duration } from '@cellar/core'

/** How `remember` coordinates with other processes through a lock on the store. */
export interface RememberLockOptions {
  /**
   * How long the loading process holds the lock; if it dies, the lock expires after this.
   * Keep it above the loader's usual time.
   * @default '10s'
   */
  readonly ttl?: Duration
  /**
   * How long the others wait for the value before they load it themselves.
   * @default the lock's `ttl`
   */
  readonly wait?: Duration
  /**
   * Pause between two looks at the store while waiting; jitter of up to the same is added.
   * @default 25
   */
  readonly retryInterval?: Duration
  /**
   * A bus shared by the processes (e.g. `RedisBus` from `@cellar/redis`): the loading process
   * announces the key once its value is written (or its lock released), and the waiting ones
   * look at the store at once instead of at their next poll (which stays as the fallback).
   */
  readonly bus?: Bus
  /**
   * The bus channel of these announcements (they carry the key only).
   * @default 'cellar:remember'
   */
  readonly channel?: string
}

/** Stampede options of `remember` (per call, or cache-wide through `createCache({ remember })`). */
export interface RememberOptions {
  /** Rejects this caller when aborted; the load goes on for the other callers. */
  readonly signal?: AbortSignal
  /** One process loads, the others wait for its value (needs a store that declares `locks`). */
  readonly lock?: boolean | RememberLockOptions
  /** Keeps an expired value this much longer, served when the loader fails or is too slow. */
  readonly grace?: Duration
  /**
   * After a failed load served stale, the loader is not called again (in this process) for this
   * long: the stale value is served instead.
   * @default '10s'
   */
  readonly graceBackoff?: Duration
  /** Soft timeout: past it, a stale value (if any) is returned and the load finishes in the background. */
  readonly timeout?: Duration
  /** Past it, the caller is rejected with `E_LOADER_TIMEOUT` (the load still finishes and is cached). */
  readonly hardTimeout?: Duration
}
