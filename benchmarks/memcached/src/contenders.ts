import { CacheGateway } from '@cellar/core'
import { MemcachedStore } from '@cellar/memcached'
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

/** One library under test: a read of a present key and a write, each of the fixture. */
export interface Contender {
  readonly name: string
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  close(): Promise<void>
}

const quiet = { logger: { log() {} } }

/** Every contender gets its own connection to the same server, so none shares a socket. */
export function createContenders(servers: string): Contender[] {
  const gateway = new CacheGateway(new MemcachedStore({ servers, prefix: 'bench:cellar:' }))
  // Trusts a generation read for 1 s instead of checking it with every operation.
  const trusting = new CacheGateway(
    new MemcachedStore({ servers, prefix: 'bench:trusting:', generationTtl: 1_000 }),
  )

  // The baseline an expert writes by hand: one reused encoder and decoder, as core's serializer.
  const raw = Client.create(servers, quiet)
  const encoder = new Encoder()
  const decoder = new Decoder()

  const keyvStore = new KeyvMemcache(servers, quiet)
  const keyv = new Keyv({ store: keyvStore, namespace: 'bench-keyv' })

  return [
    {
      name: 'cellar MemcachedStore + CacheGateway',
      get: (key) => gateway.getValue(key),
      set: (key, value) => gateway.setValue(key, value),
      close: () => gateway.close(),
    },
    {
      name: 'cellar, generationTtl 1s',
      get: (key) => trusting.getValue(key),
      set: (key, value) => trusting.setValue(key, value),
      close: () => trusting.close(),
    },
    {
      name: 'raw memjs + msgpack',
      get: async (key) => {
        const { value } = await raw.get(`bench:raw:${key}`)
        return value === null ? undefined : decoder.decode(value)
      },
      set: (key, value) => raw.set(`bench:raw:${key}`, Buffer.from(encoder.encode(value))),
      close: async () => raw.close(),
    },
    {
      name: '@keyv/memcache (keyv 5)',
      get: (key) => keyv.get(key),
      set: (key, value) => keyv.set(key, value),
      close: async () => keyvStore.client.close(),
    },
  ]
}

/** Writes every key the get-hit runs read, and checks each contender reads the fixture back. */
export async function prepare(contenders: readonly Contender[]): Promise<void> {
  for (const contender of contenders) {
    for (let i = 0; i < KEYS; i++) await contender.set(`key:${i}`, fixture)
    const back = (await contender.get('key:0')) as typeof fixture | undefined
    if (back?.address?.zip !== fixture.address.zip) {
      throw new Error(`${contender.name} did not read the fixture back: ${JSON.stringify(back)}`)
    }
  }
}
