import {
  assertKey,
  encodeCounter,
  type LockBackend,
  NullStore,
  requireCounter,
  type Store,
} from '../src/index.js'

/** A minimal byte store for gateway tests (no TTL): the real stores are tested by conformance. */
export function mapStore(): Store<Uint8Array> {
  const map = new Map<string, Uint8Array>()
  const base = new NullStore()
  return {
    name: 'map',
    capabilities: { ...base.capabilities, retainsValues: true },
    get: async (key) => map.get(key),
    getMany: async (keys) => keys.map((key) => map.get(key)),
    set: async (key, value) => {
      assertKey(key)
      map.set(key, value)
    },
    setMany: async (entries) => {
      for (const [key, value] of entries) map.set(key, value)
    },
    add: async (key, value) => !map.has(key) && Boolean(map.set(key, value)),
    has: async (key) => map.has(key),
    delete: async (key) => map.delete(key),
    deleteMany: async (keys) => keys.filter((key) => map.delete(key)).length,
    increment: async (key, delta = 1) => {
      const current = map.get(key)
      const next = (current === undefined ? 0 : requireCounter(current, key)) + delta
      map.set(key, encodeCounter(next))
      return next
    },
    touch: async (key) => map.has(key),
    ttl: async (key) => (map.has(key) ? null : undefined),
    clear: async () => map.clear(),
    namespace: () => mapStore(),
    close: async () => {},
  }
}

/** One holder per lock name, no expiry, fencing token always 1: enough to drive `Lock` itself. */
export function mapLockBackend(): LockBackend {
  const holders = new Map<string, string>()
  return {
    acquire: async (name, owner) => {
      if (holders.has(name)) return false
      holders.set(name, owner)
      return 1
    },
    release: async (name, owner) => holders.get(name) === owner && holders.delete(name),
    forceRelease: async (name) => {
      holders.delete(name)
    },
    extend: async (name, owner) => holders.get(name) === owner,
    inspect: async (name) => {
      const owner = holders.get(name)
      return owner === undefined ? undefined : { owner, remainingMs: null }
    },
  }
}
