import {
  mkdirSync,
  mkdtempSync,
  readFile as readFileCallback,
  rmSync,
  writeFile as writeFileCallback,
} from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CacheGateway, MsgpackSerializer, SERIALIZED_TAG } from '@cellar/core'
import { FileStore } from '@cellar/file'
import { BentoCache, bentostore } from 'bentocache'
import { FileDriver, fileDriver } from 'bentocache/drivers/file'
import { cycle, keys, PRODUCT } from './fixture.js'
import { lockContenders } from './locks.js'

/** One contender: a get of a present key, a set and a lock round, each a distinct async function. */
export interface Contender {
  readonly name: string
  readonly hit?: () => Promise<unknown>
  readonly set?: () => Promise<unknown>
  /** Acquire + release of an uncontended lock. */
  readonly lock?: () => Promise<unknown>
  readonly prepare: () => Promise<void>
  readonly close?: () => Promise<void>
}

/** Entries are written as real caches write them: with a TTL. */
export const TTL = '1h'

/** Where the files go: `BENCH_DIR` (e.g. /dev/shm for tmpfs), else the OS temp directory. */
export const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'cellar-bench-file-'))

/** The bytes the gateway writes for PRODUCT: its tag byte plus MessagePack. */
export function productBytes(): Uint8Array {
  const body = new MsgpackSerializer().encode(PRODUCT)
  const tagged = new Uint8Array(body.length + 1)
  tagged[0] = SERIALIZED_TAG
  tagged.set(body, 1)
  return tagged
}

/**
 * Every contender. `Compare`, when given, is another build's `FileStore` (e.g. the code before a
 * change, from `BENCH_COMPARE`) measured in the same process for before/after ratios.
 */
export function createContenders(Compare?: typeof FileStore): Contender[] {
  const value = productBytes()
  const plainDir = join(root, 'plain')
  mkdirSync(plainDir, { recursive: true })
  const plainPath = (key: string) => join(plainDir, key)

  const store = new FileStore({ directory: join(root, 'cellar'), pruneInterval: false })
  const noTtl = new FileStore({ directory: join(root, 'cellar-no-ttl'), pruneInterval: false })
  const gateway = new CacheGateway(store)
  const bento = new BentoCache({
    default: 'file',
    stores: {
      file: bentostore().useL2Layer(
        fileDriver({ directory: join(root, 'bento'), pruneInterval: false }),
      ),
    },
  })
  const driver = new FileDriver({ directory: join(root, 'bento-driver'), pruneInterval: false })
  const json = JSON.stringify(PRODUCT)

  const callbackHit = cycle()
  const callbackSet = cycle()
  const plainHit = cycle()
  const plainSet = cycle()
  const atomicSet = cycle()
  let sequence = 0
  const storeHit = cycle()
  const storeSet = cycle()
  const noTtlHit = cycle()
  const noTtlSet = cycle()
  const gatewayHit = cycle()
  const gatewaySet = cycle()
  const bentoHit = cycle()
  const bentoSet = cycle()
  const driverHit = cycle()
  const driverSet = cycle()

  const contenders: Contender[] = [
    {
      name: 'plain fs (callback API): readFile / writeFile of the same bytes',
      prepare: async () => {
        for (const key of keys) await writeFile(plainPath(key), value)
      },
      hit: () => callbackRead(plainPath(callbackHit())),
      set: () => callbackWrite(plainPath(callbackSet()), value),
    },
    {
      name: 'plain fs/promises: readFile / writeFile of the same bytes',
      prepare: async () => {},
      hit: () => readFile(plainPath(plainHit())),
      set: () => writeFile(plainPath(plainSet()), value),
    },
    {
      name: 'plain fs: writeFile to a temp file + rename (atomic)',
      prepare: async () => {},
      set: async () => {
        const path = plainPath(atomicSet())
        const temp = `${path}.${sequence++}.tmp`
        await writeFile(temp, value)
        await rename(temp, path)
      },
    },
    {
      name: 'FileStore: store.get / store.set (bytes)',
      prepare: async () => {
        for (const key of keys) await store.set(key, value, TTL)
      },
      hit: () => store.get(storeHit()),
      set: () => store.set(storeSet(), value, TTL),
    },
    {
      name: 'FileStore, entries without a TTL: store.get / store.set',
      prepare: async () => {
        for (const key of keys) await noTtl.set(key, value)
      },
      hit: () => noTtl.get(noTtlHit()),
      set: () => noTtl.set(noTtlSet(), value),
      close: () => noTtl.close(),
    },
    {
      name: 'FileStore via CacheGateway: getValue / setValue',
      prepare: async () => {
        for (const key of keys) await gateway.setValue(key, PRODUCT, TTL)
      },
      hit: () => gateway.getValue(gatewayHit()),
      set: () => gateway.setValue(gatewaySet(), PRODUCT, TTL),
      close: () => store.close(),
    },
    {
      name: 'BentoCache (file driver as its only layer): get / set',
      prepare: async () => {
        for (const key of keys) await bento.set({ key, value: PRODUCT, ttl: TTL })
      },
      hit: () => bento.get({ key: bentoHit() }),
      set: () => bento.set({ key: bentoSet(), value: PRODUCT, ttl: TTL }),
      close: () => bento.disconnectAll(),
    },
    {
      name: 'BentoCache FileDriver alone: get / set (JSON string)',
      prepare: async () => {
        for (const key of keys) await driver.set(key, json, HOUR_MS)
      },
      hit: () => driver.get(driverHit()),
      set: () => driver.set(driverSet(), json, HOUR_MS),
      close: () => driver.disconnect(),
    },
  ]
  const lockStores: Array<readonly [string, FileStore]> = [
    ['FileStore: lock acquire + release', store],
  ]
  if (Compare !== undefined) {
    const before = new Compare({ directory: join(root, 'compare'), pruneInterval: false })
    const beforeHit = cycle()
    const beforeSet = cycle()
    contenders.push({
      name: 'FileStore, compared build: store.get / store.set (bytes)',
      prepare: async () => {
        for (const key of keys) await before.set(key, value, TTL)
      },
      hit: () => before.get(beforeHit()),
      set: () => before.set(beforeSet(), value, TTL),
      close: () => before.close(),
    })
    lockStores.push(['FileStore, compared build: lock acquire + release', before])
  }
  return [...contenders, ...lockContenders(join(root, 'locks'), lockStores)]
}

const HOUR_MS = 3_600_000

function callbackRead(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    readFileCallback(path, (error, data) => (error === null ? resolve(data) : reject(error)))
  })
}

function callbackWrite(path: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    writeFileCallback(path, data, (error) => (error === null ? resolve() : reject(error)))
  })
}

/** Checks every contender reads back what it wrote before anything is timed. */
export async function prepare(contenders: Contender[]): Promise<void> {
  for (const contender of contenders) {
    await contender.prepare()
    if (contender.hit !== undefined && (await contender.hit()) === undefined) {
      throw new Error(`${contender.name}: a prepared key read back as a miss`)
    }
  }
}

export function removeRoot(): void {
  rmSync(root, { recursive: true, force: true })
}
