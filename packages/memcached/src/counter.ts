import { setTimeout as sleep } from 'node:timers/promises'
import { encodeCounter, InvalidArgumentError, requireCounter } from '@cellar/core'
import type { Response } from 'memjs'
import { MAX_RELATIVE_SECONDS } from './expiry.js'
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

/** Expiration value that makes INCR/DECR fail on a missing key instead of creating it. */
const NO_CREATE = 0xffffffff
const MAX_ATTEMPTS = 200

function overflow(key: string): Error {
  return new InvalidArgumentError(
    `[cellar:memcached] counter "${key.slice(0, 64)}" would leave the safe integer range`,
    { key },
  )
}

/** The 64-bit unsigned result of INCR/DECR, refused past Number.MAX_SAFE_INTEGER. */
function result(response: Response, key: string): number {
  const value = response.val.readBigUInt64BE(0)
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw overflow(key)
  return Number(value)
}

/**
 * Adds `delta` to the counter at `mcKey` and resolves the new value (see `increment`).
 *
 * A delta >= 0 is one native INCR whose "initial" is the delta itself: the server creates a
 * missing key with that value (no expiry) or adds to an existing one (keeping its expiry), in
 * one atomic step. Native counters are unsigned, so negative results, negative counters and
 * negative deltas go through a compare-and-swap loop instead: read the value and its CAS, then
 * DECR/INCR with that CAS (keeps the expiry) or, where the result is negative, SET with that CAS
 * and the absolute expiry kept in the item's flags. A concurrent writer makes the CAS fail and
 * the loop read again, so every update applies exactly once.
 */
export async function incrementCounter(
  wire: Wire,
  mcKey: string,
  key: string,
  delta: number,
): Promise<number> {
  if (delta >= 0) {
    const extras = counterExtras(delta, delta, 0)
    const response = await wire.send(Op.INCR, mcKey, key, extras, undefined, undefined, ONCE)
    if (response.header.status === Status.OK) return result(response, key)
    if (response.header.status !== Status.NON_NUMERIC) throw unexpected(response, key)
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt >= 3) await sleep(Math.random() * Math.min(20, attempt))
    const done = await casStep(wire, mcKey, key, delta)
    if (done !== undefined) return done
  }
  throw unavailable(
    'increment',
    key,
    new Error(`the value kept changing under ${MAX_ATTEMPTS} compare-and-swap attempts`),
  )
}

/** One read-compute-swap attempt; resolves undefined when someone else wrote in between. */
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
    if (added.header.status === Status.OK) return delta
    if (added.header.status === Status.EXISTS || added.header.status === Status.NOT_STORED) {
      return undefined
    }
    throw unexpected(added, key)
  }
  if (read.header.status !== Status.OK) throw unexpected(read, key)
  const current = requireCounter(read.val, key)
  const next = current + delta
  if (!Number.isSafeInteger(next)) throw overflow(key)
  if (delta === 0) return current
  const cas = read.header.cas
  let swapped: Response
  if (current >= 0 && next >= 0) {
    const opcode = delta > 0 ? Op.INCR : Op.DECR
    const extras = counterExtras(Math.abs(delta), 0, NO_CREATE)
    swapped = await wire.send(opcode, mcKey, key, extras, undefined, cas, ONCE)
  } else {
    // memcached can't report an item's TTL; the flags hold the absolute expiry we wrote.
    const flags = read.extras.length >= 4 ? read.extras.readUInt32BE(0) : 0
    const at = flags > MAX_RELATIVE_SECONDS ? flags : 0
    const extras = storeExtras(at, at)
    swapped = await wire.send(Op.SET, mcKey, key, extras, encodeCounter(next), cas, ONCE)
  }
  const status = swapped.header.status
  if (status === Status.OK) return next
  if (status === Status.EXISTS || status === Status.NOT_FOUND) return undefined
  throw unexpected(swapped, key)
}
