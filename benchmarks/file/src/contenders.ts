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

/** One contender: a get of a present key and a set, each a distinct async function. */
export interface Contender {
  readonly name: string
  readonly hit?: () => Promise<unknown>
  readonly set?: () => Promise<unknown>
  readonly prepare: () => Promise<void>
  readonly close?: () => Promise<void>
}

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

export function createContenders(): Contender[] {
  const value = productBytes()
  const plainDir = join(root, 'plain')
  mkdirSync(plainDir, { recursive: true })
  const plainPath = (key: string) => join(plainDir, key)

  const store = new FileStore({ directory: join(root, 'cellar'), pruneInterval: false })
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
  const gatewayHit = cycle()
  const gatewaySet = cycle()
  const bentoHit = cycle()
  const bentoSet = cycle()
  const driverHit = cycle()
  const driverSet = cycle()

  return [
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
        for (const key of keys) await store.set(key, value)
      },
      hit: () => store.get(storeHit()),
      set: () => store.set(storeSet(), value),
    },
    {
      name: 'FileStore via CacheGateway: getValue / setValue',
      prepare: async () => {
        for (const key of keys) await gateway.setValue(key, PRODUCT)
      },
      hit: () => gateway.getValue(gatewayHit()),
      set: () => gateway.setValue(gatewaySet(), PRODUCT),
      close: () => store.close(),
    },
    {
      name: 'BentoCache (file driver as its only layer): get / set',
      prepare: async () => {
        for (const key of keys) await bento.set({ key, value: PRODUCT })
      },
      hit: () => bento.get({ key: bentoHit() }),
      set: () => bento.set({ key: bentoSet(), value: PRODUCT }),
      close: () => bento.disconnectAll(),
    },
    {
      name: 'BentoCache FileDriver alone: get / set (JSON string)',
      prepare: async () => {
        for (const key of keys) await driver.set(key, json)
      },
      hit: () => driver.get(driverHit()),
      set: () => driver.set(driverSet(), json),
      close: () => driver.disconnect(),
    },
  ]
}

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
