import {
  assertKey,
  decodeRateLimitState,
  encodeRateLimitState,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  type RateLimitState,
  rateLimitStep,
  SteppedRateLimitBackend,
  scopedKey,
} from '@cellar/core'
import { fileError } from './errors.js'
import { keyPath, readIfExists, removeIfExists, withMutex, writeAtomic } from './file-io.js'
import { decodeFile, encodeFile, Kind } from './format.js'
import type { Root } from './root.js'

// A state file is an ordinary entry whose value is core's `r1:a:b:w:blockedUntil` text, with the
// state's end as its expiry (so ttl(), keys() and the sweep treat it like any entry). A file
// that does not hold such a value reads as no state.
function decodeState(file: Buffer | undefined, full: Buffer): RateLimitState | undefined {
  const decoded = file === undefined ? undefined : decodeFile(file, Kind.entry, full)
  return decoded === undefined ? undefined : decodeRateLimitState(decoded.value)
}

/**
 * The file store's native limiter step: under the key's cross-process mutex (the one `increment`
 * takes), read the state file, run core's reference step on the store's clock (`now`, the host's
 * wall clock by default) and write the new state atomically (or remove it). A read (0 points)
 * takes no mutex and writes nothing: it sees the last state written whole.
 */
export class FileRateLimitBackend extends SteppedRateLimitBackend {
  readonly #root: Root
  readonly #prefix: string
  readonly #open: () => void

  constructor(root: Root, prefix: string, open: () => void) {
    super()
    this.#root = root
    this.#prefix = prefix
    this.#open = open
  }

  async reset(key: string): Promise<void> {
    this.#open()
    assertKey(key)
    const { path } = this.#locate(key)
    await this.#guard('rate limit reset', key, () =>
      withMutex(path, this.#root.staleMs, key, () => removeIfExists(path)),
    )
  }

  protected async decide(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    this.#open()
    assertKey(key)
    const { path, full } = this.#locate(key)
    const now = this.#root.now
    if (request.points === 0) {
      return this.#guard('rate limit', key, async () => {
        const state = decodeState(await readIfExists(path), full)
        return rateLimitStep(algorithm, state, now(), request).decision
      })
    }
    return this.#guard('rate limit', key, () =>
      withMutex(path, this.#root.staleMs, key, async () => {
        const file = await readIfExists(path)
        const at = now()
        const outcome = rateLimitStep(algorithm, decodeState(file, full), at, request)
        if (outcome.state !== undefined && outcome.expiresAt > at) {
          const bytes = encodeFile(
            Kind.entry,
            full,
            encodeRateLimitState(outcome.state),
            outcome.expiresAt,
          )
          await writeAtomic(path, bytes)
        } else if (file !== undefined) {
          await removeIfExists(path)
        }
        return outcome.decision
      }),
    )
  }

  #locate(key: string): { path: string; full: Buffer } {
    const full = Buffer.from(scopedKey(this.#prefix, key))
    return { path: keyPath(this.#root.directory, this.#root.fanOut, full), full }
  }

  async #guard<T>(action: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw fileError(action, error, key)
    }
  }
}
