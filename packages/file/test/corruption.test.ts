import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { dirname } from 'node:path'
import * as zlib from 'node:zlib'
import { afterEach, describe, expect, test } from 'vitest'
import { jsCrc32 } from '../src/format.js'
import { FileStore } from '../src/index.js'
import { bytes, entryPath, listFiles, removeTempDirs, tempDir, text } from './helpers.js'

const stores: FileStore[] = []
function open() {
  const store = new FileStore({ directory: tempDir('corrupt'), pruneInterval: false })
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  removeTempDirs()
})

type Damage = (path: string) => void

const damages: Record<string, Damage> = {
  'truncated mid-value': (path) => truncateSync(path, readFileSync(path).length - 5),
  'truncated inside the header': (path) => truncateSync(path, 10),
  'emptied to zero bytes': (path) => truncateSync(path, 0),
  'overwritten with garbage': (path) => writeFileSync(path, 'this is not a cache file at all'),
  'one value byte flipped': (path) => {
    const file = readFileSync(path)
    file[file.length - 1]! ^= 0x01
    writeFileSync(path, file)
  },
  'an unknown format version': (path) => {
    const file = readFileSync(path)
    file[4] = 99
    writeFileSync(path, file)
  },
  'extra bytes appended': (path) => writeFileSync(path, 'tail', { flag: 'a' }),
}

describe('FileStore with damaged files', () => {
  for (const [name, damage] of Object.entries(damages)) {
    test(`a file ${name} reads as a miss, is removed, and other keys are untouched`, async () => {
      const store = open()
      await store.set('victim', bytes('a value long enough to cut'))
      await store.set('neighbour', bytes('fine'))
      const path = entryPath(store.directory, 'victim')
      damage(path)
      expect(await store.get('victim')).toBeUndefined()
      expect(existsSync(path)).toBe(false)
      expect(text(await store.get('neighbour'))).toBe('fine')
      await store.set('victim', bytes('rewritten'))
      expect(text(await store.get('victim'))).toBe('rewritten')
    })
  }

  test('has, getMany, delete, add and increment all treat a damaged file as absent', async () => {
    const store = open()
    for (const key of ['h', 'm', 'd', 'a', 'i']) {
      await store.set(key, bytes('12345678'))
      truncateSync(entryPath(store.directory, key), 20)
    }
    expect(await store.has('h')).toBe(false)
    expect(await store.getMany(['m', 'h'])).toEqual([undefined, undefined])
    expect(await store.delete('d')).toBe(false)
    expect(await store.add('a', bytes('new'))).toBe(true)
    expect(text(await store.get('a'))).toBe('new')
    expect(await store.increment('i', 4)).toBe(4)
  })

  test('a file copied under another key name is caught by the stored key', async () => {
    const store = open()
    await store.set('real', bytes('real value'))
    const impostor = entryPath(store.directory, 'impostor')
    mkdirSync(dirname(impostor), { recursive: true })
    copyFileSync(entryPath(store.directory, 'real'), impostor)
    expect(await store.get('impostor')).toBeUndefined()
    expect(existsSync(impostor)).toBe(false)
    expect(text(await store.get('real'))).toBe('real value')
  })

  test('prune removes damaged files; clear leaves files it cannot attribute to its prefix', async () => {
    const store = open()
    await store.set('bad', bytes('value'))
    await store.set('good', bytes('value'))
    writeFileSync(entryPath(store.directory, 'bad'), 'garbage')
    await store.namespace('elsewhere').clear()
    expect(listFiles(store.directory)).toHaveLength(2)
    expect(await store.prune()).toBe(1)
    expect(text(await store.get('good'))).toBe('value')
  })

  test('a damaged lock state file frees the lock and tokens still increase', async () => {
    const store = open()
    const first = store.lock('job')
    const token = await first.acquire()
    expect(token).toBe(1)
    writeFileSync(entryPath(store.directory, 'job', '.fence'), 'garbage')
    expect(await first.isLocked()).toBe(false)
    const next = await store.lock('job').acquire()
    expect(next).toBeGreaterThan(token as number)
    expect(await store.lock('job').acquire()).toBe(false)
  })

  test('the fallback CRC-32 agrees with zlib', () => {
    const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32
    const data = bytes('The quick brown fox jumps over the lazy dog')
    expect(jsCrc32(data)).toBe(0x414fa339)
    if (native !== undefined) {
      expect(jsCrc32(data, 12345)).toBe(native(data, 12345))
    }
  })
})
