import {
  assertKey,
  decodeRateLimitState,
  encodeRateLimitState,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitRequest,
  rateLimitStep,
  SteppedRateLimitBackend,
} from '@cellar/core'
import type { Response } from 'memjs'
import { toExpiry } from './expiry.js'
import type { Head } from './keys.js'
import { ONCE, Op, Status, storeExtras, unavailable, unexpected, type Wire } from './wire.js'

// Compare-and-swap rounds one decision may take before it gives up with E_BACKEND_UNAVAILABLE.
// Callers in this process take turns per key, so only other processes' writes cost a round.
const ATTEMPTS = 64

// A state item's value is core's `r1:a:b:w:blockedUntil` text; anything else reads as no state.

// A write lost to another client's (the item changed, appeared or went): read again.
function lostRace(response: Response): boolean {
  const { status } = response.header
  return status === Status.EXISTS || status === Status.NOT_FOUND || status === Status.NOT_STORED
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `op` with the store's current generation head (the store's `#run`). */
export type HeadRunner = <T>(op: (head: Head) => Promise<T>) => Promise<T>

/**
 * memcached's native limiter step on one item per key: GET the state with its CAS, run core's
 * reference step on this process's clock (memcached offers no clock to a client), then write it
 * back only if the item is unchanged (SET with the CAS, or ADD when there was none; DELETE with
 * the CAS when nothing is left to keep), with the state's end as the item's expiry. A lost race
 * reads again, up to 64 rounds. Application servers must keep their clocks in sync: a skewed one
 * moves window boundaries and block ends by its skew. A read (0 points) writes nothing.
 */
export class MemcachedRateLimitBackend extends SteppedRateLimitBackend {
  readonly #wire: Wire
  readonly #run: HeadRunner
  readonly #open: () => void
  // The tail of each item's in-process queue of decisions.
  readonly #turns = new Map<string, Promise<unknown>>()

  constructor(wire: Wire, run: HeadRunner, open: () => void) {
    super()
    this.#wire = wire
    this.#run = run
    this.#open = open
  }

  async reset(key: string): Promise<void> {
    this.#open()
    assertKey(key)
    await this.#run(async (head) => {
      const response = await this.#wire.send(Op.DELETE, head.key(key), key)
      const { status } = response.header
      if (status !== Status.OK && status !== Status.NOT_FOUND) throw unexpected(response, key)
    })
  }

  protected async decide(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    this.#open()
    assertKey(key)
    return this.#run((head) => {
      const item = head.key(key)
      if (request.points === 0) return this.#peek(algorithm, item, key, request)
      return this.#inTurn(item, () => this.#decide(algorithm, item, key, request))
    })
  }

  async #peek(
    algorithm: RateLimitAlgorithm,
    item: string,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    const read = await this.#read(item, key)
    const state = read === undefined ? undefined : decodeRateLimitState(read.val)
    return rateLimitStep(algorithm, state, Date.now(), request).decision
  }

  async #decide(
    algorithm: RateLimitAlgorithm,
    item: string,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      // Past a few lost rounds, step aside a little so the other writers finish.
      if (attempt >= 3) await pause(Math.random() * Math.min(2 ** (attempt - 3), 16))
      const read = await this.#read(item, key)
      const now = Date.now()
      const state = read === undefined ? undefined : decodeRateLimitState(read.val)
      const outcome = rateLimitStep(algorithm, state, now, request)
      const cas = read?.header.cas
      let written: Response
      if (outcome.state !== undefined && outcome.expiresAt > now) {
        const { flags, exptime } = toExpiry(outcome.expiresAt - now, now)
        const extras = storeExtras(flags, exptime)
        const value = encodeRateLimitState(outcome.state)
        written =
          read === undefined
            ? await this.#wire.send(Op.ADD, item, key, extras, value, undefined, ONCE)
            : await this.#wire.send(Op.SET, item, key, extras, value, cas, ONCE)
      } else if (read !== undefined) {
        written = await this.#wire.send(Op.DELETE, item, key, undefined, undefined, cas, ONCE)
      } else {
        return outcome.decision
      }
      if (written.header.status === Status.OK) return outcome.decision
      if (!lostRace(written)) throw unexpected(written, key)
    }
    throw unavailable(
      'rate limit',
      key,
      new Error(`the limiter state kept changing under ${ATTEMPTS} compare-and-swap rounds`),
    )
  }

  async #read(item: string, key: string): Promise<Response | undefined> {
    const response = await this.#wire.send(Op.GET, item, key)
    if (response.header.status === Status.NOT_FOUND) return undefined
    if (response.header.status !== Status.OK) throw unexpected(response, key)
    return response
  }

  // One decision per item at a time in this process: CAS then only meets other processes.
  #inTurn<T>(item: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#turns.get(item)
    const run = previous === undefined ? fn() : previous.then(fn, fn)
    const tail = run.then(
      () => {},
      () => {},
    )
    this.#turns.set(item, tail)
    void tail.then(() => {
      if (this.#turns.get(item) === tail) this.#turns.delete(item)
    })
    return run
  }
}
