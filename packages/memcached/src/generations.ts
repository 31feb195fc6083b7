import { decodeCounter, encodeCounter } from '@cellar/core'
import type { Response } from 'memjs'
import { NEVER } from './expiry.js'
import type { Head, KeySpace } from './keys.js'
import { counterExtras, ONCE, Op, Status, storeExtras, unexpected, type Wire } from './wire.js'

const noop = (): void => {}

/**
 * A fresh generation number: the clock in microseconds, so a generation key that was evicted
 * (or lost in a restart) starts above every value it held before and never revives old keys.
 */
export function seed(): number {
  return Date.now() * 1000 + Math.floor(Math.random() * 1000)
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
 * that finished before it started, in any process. Concurrent callers share reads: while one
 * read is in flight, new callers wait for the next one, so a busy store reads the generations
 * about once per round trip, not once per operation.
 */
export class Generations {
  readonly #wire: Wire
  readonly #space: KeySpace
  #current: Head | undefined
  #inflight: Promise<Head> | undefined
  #next: Deferred | undefined

  constructor(wire: Wire, space: KeySpace) {
    this.#wire = wire
    this.#space = space
  }

  /** The last vector read, if any (what operations send with before `fresh()` confirms it). */
  get current(): Head | undefined {
    return this.#current
  }

  /** Resolves a vector read after this call; the same `Head` object while nothing changed. */
  fresh(): Promise<Head> {
    if (this.#inflight === undefined) return this.#start()
    this.#next ??= deferred()
    return this.#next.promise
  }

  /** Starts a new generation for the innermost level (what `clear()` does). */
  async bump(): Promise<void> {
    const keys = this.#space.genKeys
    const key = keys[keys.length - 1]!
    const response = await this.#wire.send(
      Op.INCR,
      key,
      undefined,
      counterExtras(1, seed(), 0),
      undefined,
      undefined,
      ONCE,
    )
    if (response.header.status === Status.NON_NUMERIC) {
      // Not ours to read any more (overwritten from outside): start over from a new seed.
      await this.#expect(this.#wire.send(Op.SET, key, undefined, storeExtras(0, 0), encode(seed())))
    } else if (response.header.status !== Status.OK) {
      throw unexpected(response, undefined)
    }
    this.#current = undefined
  }

  #start(): Promise<Head> {
    const read = this.#read()
    this.#inflight = read
    const settle = () => {
      this.#inflight = undefined
      const next = this.#next
      this.#next = undefined
      if (next !== undefined) next.resolve(this.#start())
    }
    read.then(settle, settle)
    return read
  }

  async #read(): Promise<Head> {
    const keys = this.#space.genKeys
    const found = await this.#fetch(keys)
    const gens: number[] = []
    for (const key of keys) {
      let gen = readGen(found.get(key))
      // A missing (or foreign) generation starts from a seed; `add` lets one writer win.
      while (gen === undefined) gen = await this.#init(key)
      gens.push(gen)
    }
    const current = this.#current
    if (current?.matches(gens)) return current
    const head = this.#space.head(gens)
    this.#current = head
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
