import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import { fileError } from './errors.js'
import { FENCE_SUFFIX, keyPath, readIfExists, withMutex, writeAtomic } from './file-io.js'
import { decodeFile, encodeFile, Kind } from './format.js'

/** What the lock backend needs from the store that created it. */
export interface FileLockContext {
  readonly directory: string
  readonly fanOut: boolean
  readonly staleMs: number
  readonly now: () => number
  /** Throws `E_STORE_CLOSED` once the store is closed. */
  assertOpen(): void
}

interface State {
  readonly fence: number
  /** Empty when the lock is free; the file stays to keep the fencing counter. */
  readonly owner: string
  /** Milliseconds since the epoch, 0 for a lock held until released. */
  readonly expiresAt: number
}

const FENCE_BYTES = 8

/**
 * Locks shared by every process on the directory. Each name has one state file (holder,
 * expiry, fencing counter) that is only rewritten under that name's cross-process mutex, so
 * every compare-and-act is atomic and fencing tokens strictly increase per name.
 */
export class FileLockBackend implements LockBackend {
  readonly #context: FileLockContext

  constructor(context: FileLockContext) {
    this.#context = context
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    return this.#update(name, 'lock acquire', async (state, write) => {
      const now = this.#context.now()
      if (state != null && this.#held(state, now)) return false
      const fence = nextFence(state)
      await write({ fence, owner, expiresAt: ttlMs === null ? 0 : now + ttlMs })
      return fence
    })
  }

  async release(name: string, owner: string): Promise<boolean> {
    return this.#update(name, 'lock release', async (state, write) => {
      if (state == null || !this.#held(state, this.#context.now())) return false
      if (state.owner !== owner) return false
      await write({ fence: state.fence, owner: '', expiresAt: 0 })
      return true
    })
  }

  async forceRelease(name: string): Promise<void> {
    await this.#update(name, 'lock forceRelease', async (state, write) => {
      if (state == null || state.owner === '') return
      await write({ fence: state.fence, owner: '', expiresAt: 0 })
    })
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    return this.#update(name, 'lock extend', async (state, write) => {
      const now = this.#context.now()
      if (state == null || !this.#held(state, now) || state.owner !== owner) return false
      await write({ fence: state.fence, owner, expiresAt: ttlMs === null ? 0 : now + ttlMs })
      return true
    })
  }

  async inspect(name: string): Promise<LockState | undefined> {
    this.#context.assertOpen()
    const { path, key } = this.#locate(name)
    const state = await this.#guard('lock inspect', name, () => this.#read(path, key))
    const now = this.#context.now()
    if (state == null || !this.#held(state, now)) return undefined
    return {
      owner: state.owner,
      remainingMs: state.expiresAt === 0 ? null : Math.max(0, state.expiresAt - now),
    }
  }

  #held(state: State, now: number): boolean {
    // A lock is free from the very millisecond it expires (same as the in-process lock).
    return state.owner !== '' && (state.expiresAt === 0 || now < state.expiresAt)
  }

  #locate(name: string): { path: string; key: Buffer } {
    const key = Buffer.from(name)
    const path = keyPath(this.#context.directory, this.#context.fanOut, key) + FENCE_SUFFIX
    return { path, key }
  }

  async #read(path: string, key: Buffer): Promise<State | undefined | null> {
    const bytes = await readIfExists(path)
    if (bytes === undefined) return undefined
    const decoded = decodeFile(bytes, Kind.lock, key)
    // null: a state file exists but is unreadable (its fencing counter is lost).
    if (decoded === undefined || decoded.value.byteLength < FENCE_BYTES) return null
    const view = Buffer.from(decoded.value.buffer, decoded.value.byteOffset, decoded.value.length)
    const fence = view.readDoubleBE(0)
    if (!Number.isSafeInteger(fence) || fence < 0) return null
    return {
      fence,
      owner: view.subarray(FENCE_BYTES).toString('utf8'),
      expiresAt: decoded.expiresAt,
    }
  }

  async #update<T>(
    name: string,
    action: string,
    fn: (state: State | undefined | null, write: (next: State) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    this.#context.assertOpen()
    const { path, key } = this.#locate(name)
    return this.#guard(action, name, () =>
      withMutex(path, this.#context.staleMs, name, async () => {
        const state = await this.#read(path, key)
        return fn(state, (next) => writeAtomic(path, encodeState(key, next)))
      }),
    )
  }

  async #guard<T>(action: string, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw fileError(action, error, name)
    }
  }
}

/**
 * The token after `state`'s. An unreadable state file lost its counter, so the count resumes
 * from a microsecond-scale clock reading, far above any counter that could have been there.
 */
function nextFence(state: State | undefined | null): number {
  if (state === null) return Date.now() * 1000
  return (state?.fence ?? 0) + 1
}

function encodeState(key: Buffer, state: State): Buffer {
  const owner = Buffer.from(state.owner)
  const value = Buffer.allocUnsafe(FENCE_BYTES + owner.length)
  value.writeDoubleBE(state.fence, 0)
  owner.copy(value, FENCE_BYTES)
  return encodeFile(Kind.lock, key, value, state.expiresAt)
}
