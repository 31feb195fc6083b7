// Prototypes of the changes proposed in README.md, measured next to the real thing. They are
// NOT core's code: each reproduces just enough of a proposed path to put a number on it.
import {
  assertKey,
  decodeCounter,
  encodeCounter,
  MsgpackSerializer,
  resolveTtl,
  SERIALIZED_TAG,
  type Serializer,
} from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { LRUCache } from 'lru-cache'
import { do_not_optimize } from 'mitata'
import type { Contender } from './contenders.js'
import { cycle, HIT_KEYS, MISS_KEYS, PRODUCT } from './fixture.js'
import { MsgpackrSerializer } from './msgpackr-serializer.js'

/**
 * Proposal 1: `getValue`/`setValue` without the async wrappers (`#call`, `#read`) when there is
 * no event listener and no schema: one promise from the store, one `.then` to decode.
 */
class LeanGateway {
  readonly #store: MemoryStore
  readonly #serializer: Serializer

  constructor(store: MemoryStore, serializer: Serializer) {
    this.#store = store
    this.#serializer = serializer
  }

  getValue(key: string): Promise<unknown> {
    return this.#store
      .get(key)
      .then((stored) => (stored === undefined ? undefined : this.#decode(stored as Uint8Array)))
  }

  setValue(key: string, value: unknown): Promise<void> {
    return this.#store.set(key, this.#encode(value))
  }

  close(): Promise<void> {
    return this.#store.close()
  }

  #decode(bytes: Uint8Array): unknown {
    if (bytes[0] === SERIALIZED_TAG) return this.#serializer.decode(bytes.subarray(1))
    return decodeCounter(bytes)
  }

  #encode(value: unknown): Uint8Array {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return encodeCounter(value)
    const payload = this.#serializer.encode(value)
    const tagged = new Uint8Array(payload.length + 1)
    tagged[0] = SERIALIZED_TAG
    tagged.set(payload, 1)
    return tagged
  }
}

function lean(name: string, serializer: Serializer): Contender {
  const gateway = new LeanGateway(new MemoryStore({ maxEntries: 10_000 }), serializer)
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name,
    kind: 'prototype',
    serializes: true,
    hit: () => gateway.getValue(hitKey()),
    miss: () => gateway.getValue(missKey()),
    set: () => gateway.setValue(setKey(), PRODUCT),
    read: (key) => gateway.getValue(key),
    write: (key, value) => gateway.setValue(key, value),
    close: () => gateway.close(),
  }
}

const NULL = Symbol('null')

/**
 * Proposal 2: a synchronous read for raw in-process stores (`getValueSync`), doing what
 * MemoryStore's raw `get` does (key check, prefix, TTL-aware LRU, null sentinel) minus the
 * promise. Built on an lru-cache configured as MemoryStore configures its own.
 */
function syncRaw(): Contender {
  const prefix = '' // as the benchmarked MemoryStore (no namespace): `'' + key` allocates nothing
  const lru = new LRUCache<string, NonNullable<unknown>>({
    max: 10_000,
    ttlResolution: 0,
    perf: { now: () => performance.now() },
  })
  const get = (key: string): unknown => {
    assertKey(key)
    const value = lru.get(prefix + key)
    return value === NULL ? null : value
  }
  const set = (key: string, value: unknown): void => {
    assertKey(key)
    const ms = resolveTtl(undefined, null, key)
    lru.set(prefix + key, value ?? NULL, { ttl: ms === null ? 0 : ms })
  }
  const hitKey = cycle(HIT_KEYS)
  const missKey = cycle(MISS_KEYS)
  const setKey = cycle(HIT_KEYS)
  return {
    name: 'sync raw read (prototype)',
    kind: 'prototype',
    serializes: false,
    hit: () => do_not_optimize(get(hitKey())),
    miss: () => do_not_optimize(get(missKey())),
    set: () => do_not_optimize(set(setKey(), PRODUCT)),
    read: (key) => get(key),
    write: (key, value) => set(key, value),
  }
}

/** The prototypes, in report order. */
export function createPrototypes(): Contender[] {
  return [
    syncRaw(),
    lean('lean gateway, bytes msgpack (prototype)', new MsgpackSerializer()),
    lean('lean gateway, bytes msgpackr (prototype)', new MsgpackrSerializer()),
  ]
}
