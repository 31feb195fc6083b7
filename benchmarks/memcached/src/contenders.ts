import { randomUUID } from 'node:crypto'
import * as core from '@cellar/core'
import * as memcached from '@cellar/memcached'
import KeyvMemcache from '@keyv/memcache'
import { Decoder, Encoder } from '@msgpack/msgpack'
import Keyv from 'keyv'
import { Client } from 'memjs'

/** A ~200-byte object, as a service would cache a row. */
export const fixture = {
  id: 48_213,
  name: 'Ada Lovelace',
  email: 'ada.lovelace@example.com',
  roles: ['admin', 'editor'],
  active: true,
  score: 98.5,
  createdAt: '2026-11-21T10:00:00.000Z',
  address: { street: '12 Analytical Engine Way', city: 'London', zip: 'N1 9GU' },
  tags: ['mathematics', 'computing', 'poetry'],
}

/** How many distinct keys the get-hit operations cycle through (all written up front). */
export const KEYS = 1_000
/** Every entry is written with this TTL, as real caches write them. */
export const TTL_MS = 3_600_000
const TTL_SECONDS = TTL_MS / 1000
const LOCK_TTL_MS = 30_000

/** One library under test: a read of a present key, a write, and (if it has locks) a lock. */
export interface Contender {
  readonly name: string
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  /** Acquires the lock `name` (which is free) and releases it; absent without locks. */
  lock?(name: string): Promise<void>
  close(): Promise<void>
}

const quiet = { logger: { log() {} } }

/** The packages a cellar contender is built from: this checkout's, or a baseline checkout's. */
interface Cellar {
  readonly core: Pick<typeof core, 'CacheGateway'>
  readonly memcached: Pick<typeof memcached, 'MemcachedStore'>
}

/** Loads `@cellar/core` and `@cellar/memcached` as built in another checkout (`BENCH_BASELINE`). */
export async function loadBaseline(root: string): Promise<Cellar> {
  return {
    core: await import(`${root}/packages/core/dist/index.js`),
    memcached: await import(`${root}/packages/memcached/dist/index.js`),
  }
}

function cellar(name: string, from: Cellar, servers: string, prefix: string, generationTtl = 0) {
  const store = new from.memcached.MemcachedStore({ servers, prefix, generationTtl })
  const gateway = new from.core.CacheGateway(store)
  return {
    name,
    get: (key: string) => gateway.getValue(key),
    set: (key: string, value: unknown) => gateway.setValue(key, value, TTL_MS),
    lock: async (lockName: string) => {
      const lock = store.lock(lockName, { ttl: LOCK_TTL_MS })
      if ((await lock.acquire()) === false) throw new Error(`${name}: lock ${lockName} was held`)
      await lock.release()
    },
    close: () => gateway.close(),
  } satisfies Contender
}

/** Every contender gets its own connection to the same server, so none shares a socket. */
export function createContenders(servers: string, baseline?: Cellar): Contender[] {
  // The baseline an expert writes by hand: one reused encoder and decoder, as core's serializer.
  const raw = Client.create(servers, quiet)
  const encoder = new Encoder()
  const decoder = new Decoder()

  const keyvStore = new KeyvMemcache(servers, quiet)
  const keyv = new Keyv({ store: keyvStore, namespace: 'bench-keyv' })

  const contenders: Contender[] = [
    cellar('cellar MemcachedStore + CacheGateway', { core, memcached }, servers, 'bench:cellar:'),
    // Trusts a generation read for 1 s instead of checking it with every operation.
    cellar('cellar, generationTtl 1s', { core, memcached }, servers, 'bench:trusting:', 1_000),
    {
      name: 'raw memjs + msgpack',
      get: async (key) => {
        const { value } = await raw.get(`bench:raw:${key}`)
        return value === null ? undefined : decoder.decode(value)
      },
      set: (key, value) =>
        raw.set(`bench:raw:${key}`, Buffer.from(encoder.encode(value)), { expires: TTL_SECONDS }),
      // What one writes by hand: ADD with an owner and a TTL, then read and delete if still ours
      // (memjs has no CAS delete, so the check and the delete are two steps).
      lock: async (name) => {
        const key = `bench:raw-lock:${name}`
        const owner = randomUUID()
        const expires = LOCK_TTL_MS / 1000
        if (!(await raw.add(key, owner, { expires }))) throw new Error(`raw: lock ${name} was held`)
        const { value } = await raw.get(key)
        if (value?.toString() === owner) await raw.delete(key)
      },
      close: async () => raw.close(),
    },
    {
      name: '@keyv/memcache (keyv 5)',
      get: (key) => keyv.get(key),
      set: (key, value) => keyv.set(key, value, TTL_MS),
      close: async () => keyvStore.client.close(),
    },
  ]
  if (baseline !== undefined) {
    contenders.push(cellar(BASELINE, baseline, servers, 'bench:baseline:'))
  }
  return contenders
}

/** The name of the cellar contender built from the `BENCH_BASELINE` checkout. */
export const BASELINE = 'cellar @ baseline (default options)'

/** Writes every key the get-hit runs read, and checks each contender reads the fixture back. */
export async function prepare(contenders: readonly Contender[]): Promise<void> {
  for (const contender of contenders) {
    for (let i = 0; i < KEYS; i++) await contender.set(`key:${i}`, fixture)
    const back = (await contender.get('key:0')) as typeof fixture | undefined
    if (back?.address?.zip !== fixture.address.zip) {
      throw new Error(`${contender.name} did not read the fixture back: ${JSON.stringify(back)}`)
    }
    await contender.lock?.('probe')
  }
}
