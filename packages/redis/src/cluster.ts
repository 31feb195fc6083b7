import calculateSlot from 'cluster-key-slot'
import type { ChainableCommander, Cluster } from 'ioredis'
import { pipelineError } from './errors.js'

/** Positions (in the request) of keys that share one hash slot. */
type SlotGroup = number[]

/**
 * Groups key positions by slot, and slots by the nodes serving them: ioredis runs a Cluster
 * pipeline only when all its keys live on one node group, and a multi-key command (MGET,
 * MSET, UNLINK) only when all its keys share a slot. `routingPrefix` is the client's own
 * `keyPrefix`, which ioredis adds before hashing.
 */
function groupByNode(
  cluster: Cluster,
  keys: readonly string[],
  routingPrefix: string,
): SlotGroup[][] {
  const nodes = new Map<string, Map<number, SlotGroup>>()
  for (let i = 0; i < keys.length; i++) {
    const slot = calculateSlot(routingPrefix + keys[i]!)
    // Before the slot map is loaded every slot is its own group: always a valid pipeline.
    const served = cluster.slots[slot]
    const node = served === undefined || served.length === 0 ? `#${slot}` : served.join(',')
    let slots = nodes.get(node)
    if (slots === undefined) {
      slots = new Map()
      nodes.set(node, slots)
    }
    const positions = slots.get(slot)
    if (positions === undefined) slots.set(slot, [i])
    else positions.push(i)
  }
  return [...nodes.values()].map((slots) => [...slots.values()])
}

/**
 * One pipeline per node, one command per slot group built by `add`; resolves each group's
 * reply with its positions. Rejects with the first failed command's error.
 */
async function perNode(
  cluster: Cluster,
  keys: readonly string[],
  routingPrefix: string,
  add: (pipeline: ChainableCommander, positions: SlotGroup) => void,
): Promise<Array<[SlotGroup, unknown]>> {
  const replies = await Promise.all(
    groupByNode(cluster, keys, routingPrefix).map(async (groups) => {
      const pipeline = cluster.pipeline()
      for (const positions of groups) add(pipeline, positions)
      const results = await pipeline.exec()
      const error = pipelineError(results)
      if (error !== undefined) throw error
      return groups.map((positions, i): [SlotGroup, unknown] => [positions, results![i]![1]])
    }),
  )
  return replies.flat()
}

/** MGET per slot, one pipeline per node, merged back in request order. */
export async function clusterGetMany(
  cluster: Cluster,
  keys: readonly string[],
  routingPrefix: string,
): Promise<Array<Buffer | null>> {
  const values = new Array<Buffer | null>(keys.length)
  const replies = await perNode(cluster, keys, routingPrefix, (pipeline, positions) => {
    pipeline.mgetBuffer(positions.map((i) => keys[i]!))
  })
  for (const [positions, reply] of replies) {
    const found = reply as Array<Buffer | null>
    for (let j = 0; j < positions.length; j++) values[positions[j]!] = found[j] ?? null
  }
  return values
}

/** SET (with PX when `px` is a number) for every entry, one pipeline per node. */
export async function clusterSetMany(
  cluster: Cluster,
  keys: readonly string[],
  values: readonly Buffer[],
  px: number | null,
  routingPrefix: string,
): Promise<void> {
  await perNode(cluster, keys, routingPrefix, (pipeline, positions) => {
    if (px === null) {
      pipeline.mset(positions.flatMap((i) => [keys[i]!, values[i]!]))
      return
    }
    for (const i of positions) pipeline.set(keys[i]!, values[i]!, 'PX', px)
  })
}

/** UNLINK per slot, one pipeline per node; resolves how many keys were removed. */
export async function clusterUnlink(
  cluster: Cluster,
  keys: readonly string[],
  routingPrefix: string,
): Promise<number> {
  const replies = await perNode(cluster, keys, routingPrefix, (pipeline, positions) => {
    pipeline.unlink(positions.map((i) => keys[i]!))
  })
  let removed = 0
  for (const [, reply] of replies) removed += reply as number
  return removed
}
