import type { Cluster, Redis } from 'ioredis'
import type { Connection } from './connection.js'

/** What `RedisStore#evictionPolicy()` read from the server (the first evicting master's, if any). */
export interface EvictionPolicy {
  /** `maxmemory-policy`, e.g. `'noeviction'` or `'allkeys-lru'`. */
  readonly policy: string
  /** `maxmemory` in bytes; 0 means no limit, so nothing is ever evicted. */
  readonly maxmemory: number
  /** True when keys may vanish before their TTL: a memory limit and a policy other than `noeviction`. */
  readonly evicts: boolean
}

/** CONFIG GET as a flat `[name, value, …]` list or a map, whichever the client's protocol gives. */
function configValue(reply: unknown, name: string): string {
  if (Array.isArray(reply)) {
    const at = reply.indexOf(name)
    return at === -1 ? '' : String(reply[at + 1])
  }
  if (reply instanceof Map) return String(reply.get(name) ?? '')
  if (typeof reply === 'object' && reply !== null) {
    return String((reply as Record<string, unknown>)[name] ?? '')
  }
  return ''
}

async function readNode(node: Redis): Promise<EvictionPolicy> {
  const [policy, maxmemory] = await Promise.all([
    node.config('GET', 'maxmemory-policy'),
    node.config('GET', 'maxmemory'),
  ])
  const result = {
    policy: configValue(policy, 'maxmemory-policy'),
    maxmemory: Number(configValue(maxmemory, 'maxmemory')),
  }
  return { ...result, evicts: result.maxmemory > 0 && result.policy !== 'noeviction' }
}

/** Reads the eviction settings of the standalone server or of every Cluster master. */
export async function readEvictionPolicy(connection: Connection): Promise<EvictionPolicy> {
  const nodes = connection.cluster
    ? (connection.client as Cluster).nodes('master')
    : [connection.client as Redis]
  const policies = await Promise.all(nodes.map(readNode))
  return policies.find((policy) => policy.evicts) ?? policies[0]!
}
