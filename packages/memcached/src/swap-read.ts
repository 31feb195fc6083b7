import type { Response } from 'memjs'
import { Op, Status, unavailable, type Wire } from './wire.js'

/** How many pairs of reads may disagree in a row before the key is reported as too busy. */
const PAIRS = 100

/**
 * Reads `mcKey` for a compare-and-swap on a key that native INCR also updates (counters).
 *
 * memcached (seen on 1.6.18) can answer a GET with an item's old value and the CAS of the item
 * that an INCR on another connection has just replaced it with: INCR's copy path hands the old
 * item the new item's CAS, and GET reads the CAS after it has taken the item. A SET carrying that
 * CAS succeeds and silently erases the increment (the `multi-process` counter test lost 3 of
 * 2,000 now and then; `test/swap-read.test.ts` replays the answers).
 *
 * So two GETs go out together. memcached answers one connection's requests in order, so the
 * second is served from whatever item is current after the first: if an INCR had given the first
 * a newer CAS, the second carries that CAS with the newer value. The pair agreeing on both CAS
 * and value proves the first answer was consistent; otherwise both are read again. The second
 * GET rides in the same socket write and round trip as the first.
 */
export async function readForSwap(
  wire: Pick<Wire, 'send'>,
  mcKey: string,
  key: string | undefined,
): Promise<Response> {
  for (let pair = 0; pair < PAIRS; pair++) {
    const [first, second] = await Promise.all([
      wire.send(Op.GET, mcKey, key),
      wire.send(Op.GET, mcKey, key),
    ])
    if (agree(first, second)) return first
  }
  throw unavailable(
    'get',
    key,
    new Error(`two reads in a row disagreed ${PAIRS} times (the value kept changing)`),
  )
}

function agree(first: Response, second: Response): boolean {
  const status = first.header.status
  if (status !== second.header.status) return false
  // Anything but a hit (a miss, an error status) is the caller's to handle as it is.
  if (status !== Status.OK) return true
  return first.header.cas.equals(second.header.cas) && first.val.equals(second.val)
}
