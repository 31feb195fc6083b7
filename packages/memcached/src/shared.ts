import {
  type Duration,
  InvalidArgumentError,
  parseDuration,
  resolveTtl,
  type StoreCapabilities,
  type Ttl,
} from '@cellar/core'
import { Client } from 'memjs'
import { Counters } from './counter.js'
import type { MemcachedStoreOptions } from './types.js'
import { Wire } from './wire.js'

/** What a root store and its namespaces share: the connection and the settings. */
export interface Shared {
  readonly wire: Wire
  readonly counters: Counters
  readonly ownsClient: boolean
  readonly capabilities: StoreCapabilities
  readonly defaultTtl: Ttl
  readonly generationTtl: number
  closed: boolean
}

const DEFAULT_MAX_VALUE_SIZE = 1_000_000
const silent = { log: () => {} }

function positiveSeconds(value: Duration, what: string): number {
  const ms = parseDuration(value, what)
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`[cellar:memcached] ${what} must be a positive duration`)
  }
  return ms / 1000
}

function createClient(options: MemcachedStoreOptions): Client {
  const retries = options.retries ?? 2
  if (!Number.isSafeInteger(retries) || retries < 1) {
    throw new InvalidArgumentError('[cellar:memcached] retries must be an integer >= 1')
  }
  const servers = options.servers ?? '127.0.0.1:11211'
  const list = typeof servers === 'string' ? servers : servers.join(',')
  if (list.trim() === '') {
    throw new InvalidArgumentError('[cellar:memcached] servers must name at least one server')
  }
  return Client.create(list, {
    logger: silent,
    ...options.memjs,
    timeout: positiveSeconds(options.timeout ?? 500, 'timeout'),
    conntimeout: positiveSeconds(options.connectTimeout ?? 1000, 'connectTimeout'),
    retries,
  })
}

/** Checks the options and opens (or adopts) the client; throws `E_INVALID_ARGUMENT`. */
export function createShared(options: MemcachedStoreOptions): Shared {
  const maxValueSize = options.maxValueSize ?? DEFAULT_MAX_VALUE_SIZE
  if (!Number.isSafeInteger(maxValueSize) || maxValueSize < 1) {
    throw new InvalidArgumentError('[cellar:memcached] maxValueSize must be a positive integer')
  }
  const defaultTtl = options.defaultTtl ?? null
  resolveTtl(defaultTtl) // refuse a bad default up front
  const generationTtl = parseDuration(options.generationTtl ?? 0, 'generationTtl')
  if (!(generationTtl >= 0)) {
    throw new InvalidArgumentError('[cellar:memcached] generationTtl must be 0 or positive')
  }
  const given = options.client
  if (given !== undefined) {
    const connection = ['servers', 'timeout', 'connectTimeout', 'retries', 'memjs'] as const
    const clash = connection.filter((name) => options[name] !== undefined)
    if (clash.length > 0) {
      throw new InvalidArgumentError(
        `[cellar:memcached] pass either client or ${clash.join('/')}, not both: a given client keeps its own settings`,
      )
    }
  }
  if (options.corkSockets !== undefined && typeof options.corkSockets !== 'boolean') {
    throw new InvalidArgumentError('[cellar:memcached] corkSockets must be a boolean')
  }
  const client = given ?? createClient(options)
  // A client the user handed in is never corked unless they opt in.
  const cork = options.corkSockets ?? given === undefined
  const wire = new Wire(client, watchdogDeadline(client), cork)
  return {
    wire,
    counters: new Counters(wire),
    ownsClient: given === undefined,
    defaultTtl,
    generationTtl,
    closed: false,
    capabilities: Object.freeze({
      atomicCounters: true,
      atomicAdd: true,
      locks: true,
      sharedAcrossProcesses: true,
      persistent: false,
      retainsValues: true,
      raw: false,
      maxKeyLength: Number.POSITIVE_INFINITY,
      maxValueSize,
      ttlPrecision: 2000,
      readsTtl: true,
      listsKeys: false,
      evicts: true,
    }),
  }
}

// The longest memjs itself can take to fail a request (connect, answer, every retry), plus room.
function watchdogDeadline(client: Client): number {
  const server = client.servers[0]?.options ?? {}
  const timeout = server.timeout ?? 0.5
  const connect = server.conntimeout ?? 2 * timeout
  const { retries = 2, retry_delay: delay = 0.2 } = client.options
  return Math.ceil((connect + timeout + delay) * 1000 * Math.max(1, retries)) + 1000
}
