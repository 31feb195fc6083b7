import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { join } from 'node:path'
import { CacheGateway, JsonSerializer, type Serializer, STORE_TRACING_CHANNEL } from '@cellar/core'
import { RedisStore, type RedisStoreOptions } from '@cellar/redis'
import KeyvRedis from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { createCache } from 'cache-manager'
import { Redis } from 'ioredis6'
import Keyv from 'keyv'
import { Packr } from 'msgpackr'
import { KEYS, TTL_MS, USER } from './fixture.js'
import {
  cellarLock,
  type LockContender,
  rawFencedLock,
  rawLock,
  redlockLock,
  verrouLock,
} from './locks.js'

/** One library under test: the three operations, each reading or writing `USER`-shaped values. */
export interface Contender {
  readonly name: string
  /** How getMany is done, when the library has no batch read of its own. */
  readonly note?: string
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  getMany(keys: readonly string[]): Promise<unknown>
  close(): Promise<void>
  /** Called before each of this contender's timed runs (and its warm-up), undone by `leave`. */
  enter?(): void
  leave?(): void
}

/** The parts of `@cellar/redis` and `@cellar/core` a contender uses, for the pre-change build too. */
interface CellarBuild {
  readonly RedisStore: new (options: Record<string, unknown>) => RedisStore
  readonly CacheGateway: new (store: RedisStore, options?: object) => CacheGateway
}

function cellar(
  url: string,
  name: string,
  options: Pick<RedisStoreOptions, 'autoPipelining' | 'cork'>,
  serializer?: Serializer,
  build: CellarBuild = { RedisStore, CacheGateway },
): Contender {
  const store = new build.RedisStore({ connection: url, prefix: `bench:${name}:`, ...options })
  const cache = new build.CacheGateway(store, serializer === undefined ? {} : { serializer })
  return {
    name,
    get: (key) => cache.getValue(key),
    set: (key, value) => cache.setValue(key, value, TTL_MS),
    getMany: (keys) => cache.multiGetValues(keys),
    close: () => store.close(),
  }
}

// A subscriber that does nothing: what an APM costs beyond its own work. Subscribed only while
// the "tracing subscribed" row runs, so every other cellar row runs with no subscriber at all.
const noop = () => {}
const TRACING_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map(
  (event) => `tracing:${STORE_TRACING_CHANNEL}:${event}`,
)

function traced(url: string): Contender {
  return {
    ...cellar(url, 'cellar, tracing subscribed', {}),
    enter: () => {
      for (const name of TRACING_EVENTS) subscribe(name, noop)
    },
    leave: () => {
      for (const name of TRACING_EVENTS) unsubscribe(name, noop)
    },
  }
}

/** The pre-change build (BENCH_BEFORE=<checkout>), loaded from its own dist and node_modules. */
async function loadBefore(): Promise<CellarBuild | undefined> {
  const root = process.env.BENCH_BEFORE
  if (root === undefined) return undefined
  const redis = await import(join(root, 'packages/redis/dist/index.js'))
  const core = await import(join(root, 'packages/core/dist/index.js'))
  return { RedisStore: redis.RedisStore, CacheGateway: core.CacheGateway }
}

/** The practical limit: ioredis commands plus msgpackr (plain MessagePack), no validation, no abstraction. */
function raw(url: string, name: string, enableAutoPipelining: boolean): Contender {
  const client = new Redis(url, { enableAutoPipelining })
  const packr = new Packr({ useRecords: false })
  const prefix = `bench:${name}:`
  return {
    name,
    get: async (key) => {
      const bytes = await client.getBuffer(prefix + key)
      return bytes === null ? undefined : packr.unpack(bytes)
    },
    set: (key, value) => client.set(prefix + key, packr.pack(value), 'PX', TTL_MS),
    getMany: async (keys) => {
      const values = await client.mgetBuffer(keys.map((key) => prefix + key))
      return values.map((bytes) => (bytes === null ? undefined : packr.unpack(bytes)))
    },
    close: async () => {
      await client.quit()
    },
  }
}

function keyv(url: string): Contender {
  const store = new Keyv({ store: new KeyvRedis(url), namespace: 'bench-keyv' })
  return {
    name: 'Keyv + @keyv/redis',
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value, TTL_MS),
    getMany: (keys) => store.getMany([...keys]),
    close: () => store.disconnect(),
  }
}

function cacheManager(url: string): Contender {
  const store = new Keyv({ store: new KeyvRedis(url), namespace: 'bench-cm' })
  const cache = createCache({ stores: [store] })
  return {
    name: 'cache-manager 7 (Keyv redis)',
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, TTL_MS),
    getMany: (keys) => cache.mget([...keys]),
    close: () => cache.disconnect().then(() => undefined),
  }
}

function bento(host: string, port: number): Contender {
  const cache = new BentoCache({
    default: 'redis',
    prefix: 'bench-bento',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: { host, port } })) },
  })
  return {
    name: 'BentoCache (Redis L2 only)',
    note: 'no batch read: getMany is 100 concurrent get',
    get: (key) => cache.get({ key }),
    set: (key, value) => cache.set({ key, value, ttl: TTL_MS }),
    getMany: (keys) => Promise.all(keys.map((key) => cache.get({ key }))),
    close: () => cache.disconnectAll(),
  }
}

/** Raw ioredis with the socket corked for each tick, the batching `RedisStore` does by default. */
function rawCork(url: string, name: string): Contender {
  const client = new Redis(url, { enableAutoPipelining: false })
  const packr = new Packr({ useRecords: false })
  const prefix = `bench:${name}:`
  let corked = false
  const cork = () => {
    if (corked || client.status !== 'ready') return
    const stream = client.stream
    stream.cork()
    corked = true
    process.nextTick(() => {
      corked = false
      stream.uncork()
    })
  }
  return {
    name,
    get: async (key) => {
      cork()
      const bytes = await client.getBuffer(prefix + key)
      return bytes === null ? undefined : packr.unpack(bytes)
    },
    set: (key, value) => {
      cork()
      return client.set(prefix + key, packr.pack(value), 'PX', TTL_MS)
    },
    getMany: async (keys) => {
      cork()
      const values = await client.mgetBuffer(keys.map((key) => prefix + key))
      return values.map((bytes) => (bytes === null ? undefined : packr.unpack(bytes)))
    },
    close: async () => {
      await client.quit()
    },
  }
}

/** Every contender, cellar first; raw ioredis with auto-pipelining is the reference. */
export async function createContenders(
  url: string,
  host: string,
  port: number,
): Promise<Contender[]> {
  const before = await loadBefore()
  return [
    cellar(url, 'cellar', {}),
    ...(before === undefined ? [] : [cellar(url, 'cellar before', {}, undefined, before)]),
    traced(url),
    cellar(url, 'cellar, ioredis auto-pipelining', { cork: false, autoPipelining: true }),
    // Keyv, cache-manager and BentoCache serialize with JSON.stringify; the gateway's default is
    // MessagePack in JavaScript. This row separates the serializer from the store.
    cellar(url, 'cellar, JsonSerializer', {}, new JsonSerializer()),
    raw(url, 'ioredis + msgpack, auto-pipelined', true),
    raw(url, 'ioredis + msgpack', false),
    rawCork(url, 'ioredis + msgpack, corked'),
    keyv(url),
    cacheManager(url),
    bento(host, port),
  ]
}

/** Lock contenders: cellar (and its pre-change build), the raw floor, verrou and redlock. */
export async function createLockContenders(url: string): Promise<LockContender[]> {
  const before = await loadBefore()
  const store = (build: CellarBuild, name: string, options: object = {}) =>
    new build.RedisStore({
      connection: url,
      prefix: `bench:${name}:`,
      lockPrefix: `bench-lock:`,
      ...options,
    })
  const current = { RedisStore, CacheGateway }
  // BENCH_LOCK_VARIANTS=1: the store's connection defaults switched off one at a time, to see
  // what each costs a latency-bound acquire + release.
  const variants =
    process.env.BENCH_LOCK_VARIANTS === '1'
      ? [
          cellarLock(
            'cellar, commandTimeout: 0',
            store(current, 'no-timeout', { commandTimeout: 0 }),
          ),
          cellarLock('cellar, cork: false', store(current, 'no-cork', { cork: false })),
          cellarLock(
            'cellar, commandTimeout: 0, cork: false',
            store(current, 'bare', { commandTimeout: 0, cork: false }),
          ),
        ]
      : []
  return [
    cellarLock('cellar', store(current, 'cellar')),
    ...(before === undefined ? [] : [cellarLock('cellar before', store(before, 'before'))]),
    ...variants,
    await rawLock(url),
    await rawFencedLock(url),
    verrouLock(url),
    redlockLock(url),
  ]
}

/** Writes every key through each contender's own API, so reads hit its own encoding. */
export async function prepare(contenders: readonly Contender[]): Promise<void> {
  for (const contender of contenders) {
    await Promise.all(KEYS.map((key) => contender.set(key, USER)))
    const check = await contender.get(KEYS[0]!)
    if (JSON.stringify(check) !== JSON.stringify(USER)) {
      throw new Error(`${contender.name} did not read back what it wrote: ${JSON.stringify(check)}`)
    }
  }
}
