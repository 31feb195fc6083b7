import { decodeCounter, encodeCounter } from '@cellar/core'
import type { Response } from 'memjs'
import { incr } from './counter.js'
import { NEVER } from './expiry.js'
import type { Head, KeySpace } from './keys.js'
import { counterExtras, ONCE, Op, Status, storeExtras, unexpected, type Wire } from './wire.js'

const noop = (): void => {}

/**
 * A fresh generation number: the wall clock in microseconds, so a generation key that was
 * evicted (or lost in a restart) starts above every value it held before (unless it was cleared
 * more times than microseconds passed) and never revives old keys.
 */
export function seed(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000)
}

interface Deferred {
  promise: Promise<Head>
  resolve: (head: Promise<Head>) => void
}

function deferred(): Deferred {
  let resolve!: (head: Promise<Head>) => void
  const promise = new Promise<Head>((done) => {
    resolve = done
  })
  promise.catch(noop)
  return { promise, resolve }
}

/**
 * The generation vector of one namespace path, read from memcached. `fresh()` resolves a vector
 * read by a request sent after the call, so an operation that checks it sees every `clear()`
 * that finished before it started, in any process. Calls made in the same tick share one read,
 * sent once the tick's synchronous work and promise jobs are done: a busy store reads the
 * generations about once per batch of socket events, not once per operation.
 */
export class Generations {
  readonly #wire: Wire
  readonly #space: KeySpace
  #current: Head | undefined
  #pending: Deferred | undefined
  /** Sequence of the last read sent, and of the one whose answer set `#current`. */
  #sent = 0
  #applied = 0
  readonly #trustMs: number
  /** When the read that set `#current` was sent (performance.now()). */
  #readAt = Number.NEGATIVE_INFINITY

  constructor(wire: Wire, space: KeySpace, trustMs = 0) {
    this.#wire = wire
    this.#space = space
    this.#trustMs = trustMs
  }

  /** True while the last read is recent enough to use without checking (`generationTtl`). */
  get trusted(): boolean {
    return this.#trustMs > 0 && performance.now() - this.#readAt < this.#trustMs
  }

  /** The last vector read, if any (what operations send with before `fresh()` confirms it). */
  get current(): Head | undefined {
    return this.#current
  }

  /** Resolves a vector read after this call; the same `Head` object while nothing changed. */
  fresh(): Promise<Head> {
    let pending = this.#pending
    if (pending === undefined) {
      const next = deferred()
      pending = next
      this.#pending = next
      process.nextTick(() => {
        this.#pending = undefined
        next.resolve(this.#read(++this.#sent))
      })
    }
    return pending.promise
  }

  /** Starts a new generation for the innermost level (what `clear()` does). */
  async bump(): Promise<void> {
    const keys = this.#space.genKeys
    const key = keys[keys.length - 1]!
    // Of concurrent first clears, the ones that lose the creation race retry (see `incr`).
    const response = await incr(this.#wire, key, undefined, counterExtras(1, seed(), 0))
    if (response.header.status === Status.NON_NUMERIC) {
      // Not ours to read any more (overwritten from outside): start over from a new seed.
      await this.#expect(this.#wire.send(Op.SET, key, undefined, storeExtras(0, 0), encode(seed())))
    } else if (response.header.status !== Status.OK) {
      throw unexpected(response, undefined)
    }
    this.#current = undefined
    this.#applied = this.#sent
    this.#readAt = Number.NEGATIVE_INFINITY
  }

  async #read(sequence: number): Promise<Head> {
    const sentAt = performance.now()
    const keys = this.#space.genKeys
    const found = await this.#fetch(keys)
    const gens: number[] = []
    for (const key of keys) {
      let gen = readGen(found.get(key))
      // A missing (or foreign) generation starts from a seed; `add` lets one writer win.
      while (gen === undefined) gen = await this.#init(key)
      gens.push(gen)
    }
    // Reads to several servers may answer out of order: never go back to an older vector.
    const newest = sequence > this.#applied
    if (newest) {
      this.#applied = sequence
      this.#readAt = sentAt
    }
    const current = this.#current
    if (current?.matches(gens)) return current
    const head = this.#space.head(gens)
    if (newest) this.#current = head
    return head
  }

  async #fetch(keys: readonly string[]): Promise<Map<string, Response>> {
    if (keys.length > 1) return this.#wire.getMulti(keys)
    const key = keys[0]!
    const response = await this.#wire.send(Op.GET, key, undefined)
    const found = new Map<string, Response>()
    if (response.header.status === Status.OK) found.set(key, response)
    else if (response.header.status !== Status.NOT_FOUND) throw unexpected(response, undefined)
    return found
  }

  async #init(key: string): Promise<number | undefined> {
    const value = seed()
    const extras = storeExtras(NEVER.flags, NEVER.exptime)
    const added = await this.#wire.send(
      Op.ADD,
      key,
      undefined,
      extras,
      encode(value),
      undefined,
      ONCE,
    )
    if (added.header.status === Status.OK) return value
    if (added.header.status !== Status.EXISTS && added.header.status !== Status.NOT_STORED) {
      throw unexpected(added, undefined)
    }
    const response = await this.#wire.send(Op.GET, key, undefined)
    if (response.header.status === Status.NOT_FOUND) return undefined
    if (response.header.status !== Status.OK) throw unexpected(response, undefined)
    const gen = readGen(response)
    if (gen !== undefined) return gen
    await this.#expect(this.#wire.send(Op.SET, key, undefined, extras, encode(value)))
    return value
  }

  async #expect(request: Promise<Response>): Promise<void> {
    const response = await request
    if (response.header.status !== Status.OK) throw unexpected(response, undefined)
  }
}

function encode(value: number): Uint8Array {
  return encodeCounter(value)
}

function readGen(response: Response | undefined): number | undefined {
  if (response === undefined) return undefined
  const gen = decodeCounter(response.val)
  return gen !== undefined && gen >= 0 ? gen : undefined
}
