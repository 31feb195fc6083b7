import { setTimeout as sleep } from 'node:timers/promises'
import { addToCounter, encodeCounter, InvalidArgumentError, requireCounter } from '@cellar/core'
import type { Response } from 'memjs'
import { keepExpiry, toExpiry } from './expiry.js'
import { readForSwap } from './swap-read.js'
import { fromStored } from './values.js'
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
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** INCR's expiration meaning "fail on a missing key" instead of creating it. */
const NO_CREATE = 0xffffffff

function overflow(key: string, delta: number): Error {
  return new InvalidArgumentError(
    `[cellar:memcached] cannot increment key "${key.slice(0, 64)}" by ${delta}: the result would leave the safe-integer range (±${Number.MAX_SAFE_INTEGER})`,
    { key, code: 'E_NOT_A_NUMBER' },
  )
}

/**
 * Sends INCR, again while memcached answers NOT_STORED: with an initial value, two connections
 * that find the key missing both try to create it, and the loser is told NOT_STORED without
 * anything applied. By then the key exists, so the next attempt increments it.
 */
export async function incr(
  wire: Wire,
  mcKey: string,
  about: string | undefined,
  extras: Buffer,
): Promise<Response> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const response = await wire.send(Op.INCR, mcKey, about, extras, undefined, undefined, ONCE)
    if (response.header.status !== Status.NOT_STORED) return response
  }
  throw unavailable('increment', about, new Error(`NOT_STORED ${MAX_ATTEMPTS} times in a row`))
}

interface Waiter {
  readonly delta: number
  /** TTL in ms if this increment creates the key (null: none). */
  readonly ms: number | null
  readonly resolve: (value: number) => void
  readonly reject: (error: unknown) => void
}

/**
 * Counters on memcached (see `increment`).
 *
 * A delta >= 0 is one native INCR. Without a TTL its "initial" is the delta itself: the server
 * creates a missing key with it or adds to an existing one, atomically. With a TTL the INCR may
 * not create (memcached would create the item with flags 0, losing the end second the store
 * keeps there): a miss is created by ADD with value, flags and expiry in one step, and an ADD
 * that loses a race goes back to INCR. Native counters are unsigned, so negative deltas and
 * negative counters go through compare-and-swap: read the value and its CAS, then SET the new
 * decimal with that CAS and the expiry kept from the flags (the read is `readForSwap`'s pair, since
 * memcached can pair an old value with the CAS of a concurrent INCR's result). Within the process, CAS updates of
 * one key are combined while one is in flight, each resolving the value after its own delta.
 */
export class Counters {
  readonly #wire: Wire
  readonly #queues = new Map<string, Waiter[]>()

  constructor(wire: Wire) {
    this.#wire = wire
  }

  /** Adds `delta` to the counter at `mcKey` (the caller's `key`) and resolves the new value. */
  async increment(mcKey: string, key: string, delta: number, ms: number | null): Promise<number> {
    if (delta >= 0) {
      const native = await this.#native(mcKey, key, delta, ms)
      if (native !== undefined) return native
    }
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(mcKey)
      if (queue !== undefined) {
        queue.push({ delta, ms, resolve, reject })
        return
      }
      this.#queues.set(mcKey, [])
      this.#drain(mcKey, key, [{ delta, ms, resolve, reject }])
    })
  }

  /** The native path; `undefined` when the value is not a native counter (CAS path then). */
  async #native(
    mcKey: string,
    key: string,
    delta: number,
    ms: number | null,
  ): Promise<number | undefined> {
    const wire = this.#wire
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const create = ms === null
      const extras = counterExtras(delta, delta, create ? 0 : NO_CREATE)
      const response = await incr(wire, mcKey, key, extras)
      const { status } = response.header
      if (status === Status.OK) {
        const value = response.val.readBigUInt64BE(0)
        if (value <= MAX_SAFE) return Number(value)
        await this.#undo(mcKey, key, delta)
        throw overflow(key, delta)
      }
      if (status === Status.NON_NUMERIC) return undefined
      if (status !== Status.NOT_FOUND || create) throw unexpected(response, key)
      // A missing key with a TTL: created by ADD, or nothing kept at all for a TTL <= 0.
      if (ms <= 0) return delta
      const { flags, exptime } = toExpiry(ms)
      const value = encodeCounter(delta)
      const added = await wire.send(
        Op.ADD,
        mcKey,
        key,
        storeExtras(flags, exptime),
        value,
        undefined,
        ONCE,
      )
      if (added.header.status === Status.OK) return delta
      if (added.header.status !== Status.EXISTS && added.header.status !== Status.NOT_STORED) {
        throw unexpected(added, key)
      }
    }
    throw unavailable('increment', key, new Error('the key kept vanishing and reappearing'))
  }

  /**
   * memcached applied an INCR whose result is past the safe range: take `delta` back out by
   * compare-and-swap (other clients' increments stay), so the counter ends as it was.
   */
  async #undo(mcKey: string, key: string, delta: number): Promise<void> {
    const wire = this.#wire
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = await readForSwap(wire, mcKey, key)
      if (read.header.status === Status.NOT_FOUND) return
      if (read.header.status !== Status.OK) throw unexpected(read, key)
      const text = read.val.toString('latin1')
      if (!/^\d{1,20}$/.test(text)) return // rewritten by someone else meanwhile
      const next = BigInt(text) - BigInt(delta)
      if (next < 0n) return
      const flags = read.extras.length >= 4 ? read.extras.readUInt32BE(0) : 0
      const { flags: kept, exptime } = keepExpiry(flags)
      const extras = storeExtras(kept, exptime)
      const body = Buffer.from(next.toString(), 'latin1')
      const swapped = await wire.send(Op.SET, mcKey, key, extras, body, read.header.cas, ONCE)
      if (swapped.header.status === Status.OK || swapped.header.status === Status.NOT_FOUND) {
        return
      }
      if (swapped.header.status !== Status.EXISTS) throw unexpected(swapped, key)
    }
    throw unavailable('increment', key, new Error('could not undo an increment past 2^53'))
  }

  async #drain(mcKey: string, key: string, first: Waiter[]): Promise<void> {
    let pending = first
    while (pending.length > 0) {
      // Combine only increments with the same creation TTL: the first one may create the key.
      const ms = pending[0]!.ms
      let size = 1
      while (size < pending.length && pending[size]!.ms === ms) size++
      const batch = pending.slice(0, size)
      const rest = pending.slice(size)
      try {
        const outcomes = await this.#swap(mcKey, key, batch)
        batch.forEach((waiter, i) => {
          const outcome = outcomes[i]!
          if (typeof outcome === 'number') waiter.resolve(outcome)
          else waiter.reject(outcome.error)
        })
      } catch (error) {
        for (const waiter of batch) waiter.reject(error)
      }
      pending = [...rest, ...(this.#queues.get(mcKey) ?? [])]
      this.#queues.set(mcKey, [])
    }
    this.#queues.delete(mcKey)
  }

  /** Applies the batch by compare-and-swap; resolves each waiter's value or error. */
  async #swap(mcKey: string, key: string, batch: readonly Waiter[]): Promise<Outcome[]> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt >= 2) await sleep(Math.random() * Math.min(50, 2 ** attempt))
      const outcomes = await casStep(this.#wire, mcKey, key, batch)
      if (outcomes !== undefined) return outcomes
    }
    throw unavailable(
      'increment',
      key,
      new Error(`the value kept changing under ${MAX_ATTEMPTS} compare-and-swap attempts`),
    )
  }
}

type Outcome = number | { error: unknown }

/** Each waiter's value applied in order from `current`; a delta that would overflow is refused. */
function plan(current: number, batch: readonly Waiter[], key: string): [number, Outcome[]] {
  let value = current
  const outcomes = batch.map((waiter): Outcome => {
    try {
      value = addToCounter(value, waiter.delta, key)
      return value
    } catch (error) {
      return { error }
    }
  })
  return [value, outcomes]
}

/** One read-compute-swap attempt: the outcomes, or undefined if someone wrote in between. */
async function casStep(
  wire: Wire,
  mcKey: string,
  key: string,
  batch: readonly Waiter[],
): Promise<Outcome[] | undefined> {
  const read = await readForSwap(wire, mcKey, key)
  if (read.header.status === Status.NOT_FOUND) {
    const ms = batch[0]!.ms
    // Already expired on creation: each increment sees a missing key and nothing is kept.
    if (ms !== null && ms <= 0) return batch.map((waiter) => waiter.delta)
    const [value, outcomes] = plan(0, batch, key)
    const { flags, exptime } = toExpiry(ms)
    const extras = storeExtras(flags, exptime)
    const added = await wire.send(Op.ADD, mcKey, key, extras, encodeCounter(value), undefined, ONCE)
    if (added.header.status === Status.OK) return outcomes
    if (added.header.status === Status.EXISTS || added.header.status === Status.NOT_STORED) {
      return undefined
    }
    throw unexpected(added, key)
  }
  if (read.header.status !== Status.OK) throw unexpected(read, key)
  const current = requireCounter(fromStored(read.val), key)
  const [next, outcomes] = plan(current, batch, key)
  if (next === current) return outcomes
  // Always a SET: memcached's DECR pads a shorter result with spaces in place ("10" → "9 "),
  // which is no longer a counter. memcached can't report an item's TTL; the flags hold its end.
  const flags = read.extras.length >= 4 ? read.extras.readUInt32BE(0) : 0
  const { flags: kept, exptime } = keepExpiry(flags)
  const extras = storeExtras(kept, exptime)
  const value = encodeCounter(next)
  const swapped = await wire.send(Op.SET, mcKey, key, extras, value, read.header.cas, ONCE)
  const status = swapped.header.status
  if (status === Status.OK) return outcomes
  if (status === Status.EXISTS || status === Status.NOT_FOUND) return undefined
  throw unexpected(swapped, key)
}
