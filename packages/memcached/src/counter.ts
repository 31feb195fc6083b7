import { setTimeout as sleep } from 'node:timers/promises'
import { encodeCounter, InvalidArgumentError, requireCounter } from '@cellar/core'
import type { Response } from 'memjs'
import { keepExpiry } from './expiry.js'
import {
  counterExtras,
  ONCE,
  Op,
  Status,
  storeExtras,
  unavailable,
  unexpected,
  type Wire,
} from './wire.js'

const MAX_ATTEMPTS = 200

function overflow(key: string): Error {
  return new InvalidArgumentError(
    `[cellar:memcached] counter "${key.slice(0, 64)}" would leave the safe integer range`,
    { key },
  )
}

// memcached pads a counter it shortened in place with spaces ("10" decremented by another
// client reads "9 "); it still counts it as a number, and so does the swap, which rewrites it.
function withoutPadding(value: Buffer): Buffer {
  let end = value.length
  while (end > 0 && value[end - 1] === 0x20) end--
  return end === 0 || end === value.length ? value : value.subarray(0, end)
}

/** The 64-bit unsigned result of INCR/DECR, refused past Number.MAX_SAFE_INTEGER. */
function result(response: Response, key: string): number {
  const value = response.val.readBigUInt64BE(0)
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw overflow(key)
  return Number(value)
}

interface Waiter {
  readonly delta: number
  readonly resolve: (value: number) => void
  readonly reject: (error: unknown) => void
}

/**
 * Counters on memcached (see `increment`).
 *
 * A delta >= 0 is one native INCR whose "initial" is the delta itself: the server creates a
 * missing key with that value (no expiry) or adds to an existing one (keeping its expiry), in
 * one atomic step. Native counters are unsigned (and DECR stops at 0 and pads), so negative
 * deltas and negative counters go through a compare-and-swap loop instead: read the value and
 * its CAS, then SET the new decimal with that CAS and the expiry kept in the item's flags. A
 * concurrent writer makes the CAS fail and the loop read again, so every update applies once. Within the process, CAS updates of one key
 * are combined: while one is in flight the next ones queue, then apply their summed delta in one
 * swap, each resolving the value after its own delta (as if applied back to back).
 */
export class Counters {
  readonly #wire: Wire
  readonly #queues = new Map<string, Waiter[]>()

  constructor(wire: Wire) {
    this.#wire = wire
  }

  /** Adds `delta` to the counter at `mcKey` (the caller's `key`) and resolves the new value. */
  async increment(mcKey: string, key: string, delta: number): Promise<number> {
    if (delta >= 0) {
      const extras = counterExtras(delta, delta, 0)
      const wire = this.#wire
      const response = await wire.send(Op.INCR, mcKey, key, extras, undefined, undefined, ONCE)
      if (response.header.status === Status.OK) return result(response, key)
      if (response.header.status !== Status.NON_NUMERIC) throw unexpected(response, key)
    }
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(mcKey)
      if (queue !== undefined) {
        queue.push({ delta, resolve, reject })
        return
      }
      this.#queues.set(mcKey, [])
      this.#drain(mcKey, key, [{ delta, resolve, reject }])
    })
  }

  async #drain(mcKey: string, key: string, first: Waiter[]): Promise<void> {
    let batch = first
    while (batch.length > 0) {
      const total = batch.reduce((sum, waiter) => sum + waiter.delta, 0)
      try {
        if (!Number.isSafeInteger(total)) throw overflow(key)
        let value = await this.#swap(mcKey, key, total)
        for (const waiter of batch) {
          value += waiter.delta
          waiter.resolve(value)
        }
      } catch (error) {
        for (const waiter of batch) waiter.reject(error)
      }
      batch = this.#queues.get(mcKey) ?? []
      this.#queues.set(mcKey, [])
    }
    this.#queues.delete(mcKey)
  }

  /** Applies `delta` by compare-and-swap; resolves the value it replaced. */
  async #swap(mcKey: string, key: string, delta: number): Promise<number> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt >= 2) await sleep(Math.random() * Math.min(50, 2 ** attempt))
      const before = await casStep(this.#wire, mcKey, key, delta)
      if (before !== undefined) return before
    }
    throw unavailable(
      'increment',
      key,
      new Error(`the value kept changing under ${MAX_ATTEMPTS} compare-and-swap attempts`),
    )
  }
}

/** One read-compute-swap attempt: the value replaced, or undefined if someone wrote in between. */
async function casStep(
  wire: Wire,
  mcKey: string,
  key: string,
  delta: number,
): Promise<number | undefined> {
  const read = await wire.send(Op.GET, mcKey, key)
  if (read.header.status === Status.NOT_FOUND) {
    const extras = storeExtras(0, 0)
    const value = encodeCounter(delta)
    const added = await wire.send(Op.ADD, mcKey, key, extras, value, undefined, ONCE)
    if (added.header.status === Status.OK) return 0
    if (added.header.status === Status.EXISTS || added.header.status === Status.NOT_STORED) {
      return undefined
    }
    throw unexpected(added, key)
  }
  if (read.header.status !== Status.OK) throw unexpected(read, key)
  const current = requireCounter(withoutPadding(read.val), key)
  const next = current + delta
  if (!Number.isSafeInteger(next)) throw overflow(key)
  if (delta === 0) return current
  // Always a SET: memcached's DECR pads a shorter result with spaces in place ("10" → "9 "),
  // which is no longer a counter. memcached can't report an item's TTL; the flags hold its end.
  const flags = read.extras.length >= 4 ? read.extras.readUInt32BE(0) : 0
  const { flags: kept, exptime } = keepExpiry(flags)
  const extras = storeExtras(kept, exptime)
  const value = encodeCounter(next)
  const swapped = await wire.send(Op.SET, mcKey, key, extras, value, read.header.cas, ONCE)
  const status = swapped.header.status
  if (status === Status.OK) return current
  if (status === Status.EXISTS || status === Status.NOT_FOUND) return undefined
  throw unexpected(swapped, key)
}
