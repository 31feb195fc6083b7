import { unscopedKey } from '@cellar/core'
import calculateSlot from 'cluster-key-slot'
import type { Cluster, Redis } from 'ioredis'
import type { Connection } from './connection.js'

const SCAN_COUNT = 1_000

/** Escapes Redis glob characters so every character of `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/**
 * Removes every key under `prefix` with SCAN MATCH + UNLINK on each master (never KEYS or
 * FLUSHDB). SCAN visits every key present for the whole scan and always ends, even while other
 * clients write; keys written during the scan may survive. Keys starting with `spare` (the lock
 * prefix, when it overlaps the store prefix) are kept.
 */
export async function clearPrefix(
  connection: Connection,
  prefix: string,
  spare: Buffer | undefined,
): Promise<void> {
  const { client, keyPrefix } = connection
  const pattern = `${escapeGlob(keyPrefix + prefix)}*`
  const routed = Buffer.byteLength(keyPrefix)
  const unlink = connection.cluster
    ? (keys: Buffer[]) => unlinkBySlot(client as Cluster, keys, routed)
    : (keys: Buffer[]) => client.unlink(routed === 0 ? keys : keys.map((k) => k.subarray(routed)))
  await Promise.all(
    masters(connection).map((node) => scanNode(node, pattern, routed, spare, unlink)),
  )
}

/** Every node that holds keys: the masters of a Cluster, or the one standalone client. */
function masters(connection: Connection): Redis[] {
  return connection.cluster
    ? (connection.client as Cluster).nodes('master')
    : [connection.client as Redis]
}

/**
 * The caller's keys of the store whose prefix is `prefix`: SCAN MATCH `<prefix>*` on every
 * master, keeping only its own plain keys (core's `unscopedKey` drops nested namespaces' and
 * foreign keys) and never a lock key. SCAN may return a key twice; each is yielded once.
 */
export async function* listKeys(
  connection: Connection,
  prefix: string,
  spare: Buffer | undefined,
): AsyncGenerator<string> {
  const pattern = `${escapeGlob(connection.keyPrefix + prefix)}*`
  const routed = Buffer.byteLength(connection.keyPrefix)
  const seen = new Set<string>()
  for (const node of masters(connection)) {
    let cursor = '0'
    do {
      const [next, found] = await node.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
      cursor = next.toString()
      for (const stored of found) {
        if (spare !== undefined && startsWith(stored, spare, routed)) continue
        const key = unscopedKey(prefix, stored.toString('utf8', routed))
        if (key === undefined || seen.has(key)) continue
        seen.add(key)
        yield key
      }
    } while (cursor !== '0')
  }
}

async function scanNode(
  node: Redis,
  pattern: string,
  routed: number,
  spare: Buffer | undefined,
  unlink: (keys: Buffer[]) => Promise<unknown>,
): Promise<void> {
  // Each batch is unlinked while the next SCAN page is on its way.
  const pending: Array<Promise<unknown>> = []
  let cursor = '0'
  do {
    const [next, found] = await node.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
    cursor = next.toString()
    const keys =
      spare === undefined ? found : found.filter((key) => !startsWith(key, spare, routed))
    if (keys.length > 0) pending.push(unlink(keys))
  } while (cursor !== '0')
  await Promise.all(pending)
}

function startsWith(key: Buffer, head: Buffer, offset: number): boolean {
  return (
    key.length - offset >= head.length &&
    key.compare(head, 0, head.length, offset, offset + head.length) === 0
  )
}

/** Multi-key UNLINK needs one slot; the cluster client routes each and follows MOVED. */
async function unlinkBySlot(cluster: Cluster, keys: Buffer[], routed: number): Promise<void> {
  const slots = new Map<number, Buffer[]>()
  for (const key of keys) {
    const slot = calculateSlot(key)
    const routedKey = routed === 0 ? key : key.subarray(routed)
    const group = slots.get(slot)
    if (group === undefined) slots.set(slot, [routedKey])
    else group.push(routedKey)
  }
  await Promise.all([...slots.values()].map((group) => cluster.unlink(group)))
}
