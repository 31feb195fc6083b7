import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CacheGateway, decodeCounter } from '@cellar/core'
import { afterEach, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import {
  bytes,
  entryPath,
  listFiles,
  manualClock,
  removeTempDirs,
  tempDir,
  text,
} from './helpers.js'

const stores: FileStore[] = []
function open(options: Partial<ConstructorParameters<typeof FileStore>[0]> = {}) {
  const store = new FileStore({ directory: tempDir(), pruneInterval: false, ...options })
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  removeTempDirs()
})

describe('FileStore layout', () => {
  test('one file per key, named by the SHA-256 of the prefixed key, fanned out', async () => {
    const store = open({ prefix: 'app:' })
    await store.set('user:1', bytes('ada'))
    const path = entryPath(store.directory, 'app:user:1')
    expect(listFiles(store.directory)).toEqual([path.slice(store.directory.length + 1)])
    const file = readFileSync(path)
    expect(file.subarray(0, 4).toString('latin1')).toBe('CLFS')
    expect(file[4]).toBe(1)
    expect(file.readDoubleBE(8)).toBe(0)
    expect(file.subarray(28, 28 + file.readUInt32BE(16)).toString()).toBe('app:user:1')
    expect(text(file.subarray(file.length - 3))).toBe('ada')
  })

  test('fanOut: false keeps every file in the directory itself', async () => {
    const store = open({ fanOut: false })
    await store.set('k', bytes('v'))
    const files = listFiles(store.directory)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^[0-9a-f]{64}$/)
  })

  test('no key can reach outside the directory', async () => {
    const parent = tempDir('escape')
    const store = open({ directory: join(parent, 'cache') })
    const nasty = ['../../escape', '/etc/passwd', '..', 'a/../../b', 'nul\0byte', 'C:\\x', '~']
    for (const key of nasty) await store.set(key, bytes(key))
    for (const key of nasty) expect(text(await store.get(key))).toBe(key)
    expect(listFiles(parent).every((file) => file.startsWith('cache/'))).toBe(true)
    expect(listFiles(join(parent, 'cache'))).toHaveLength(nasty.length)
  })

  test('writes leave no temporary file behind and readers never see a partial value', async () => {
    const store = open()
    const big = new Uint8Array(256 * 1024).fill(7)
    const small = new Uint8Array(10).fill(1)
    const reads: Array<Promise<Uint8Array | undefined>> = []
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 40; i++) {
      writes.push(store.set('k', i % 2 ? big : small))
      reads.push(store.get('k'))
    }
    await Promise.all(writes)
    for (const value of await Promise.all(reads)) {
      if (value === undefined) continue
      expect([big.length, small.length]).toContain(value.length)
      expect(value.every((byte) => byte === value[0])).toBe(true)
    }
    expect(listFiles(store.directory).filter((file) => file.endsWith('.tmp'))).toEqual([])
  })

  test('entries persist for a new store on the same directory', async () => {
    const first = open()
    await first.set('k', bytes('kept'), '1h')
    await first.increment('n', 5)
    await first.close()
    const second = open({ directory: first.directory })
    expect(text(await second.get('k'))).toBe('kept')
    expect(await second.increment('n')).toBe(6)
  })

  test('a value over maxValueSize is refused and the old value survives', async () => {
    const store = open({ maxValueSize: 8 })
    await store.set('k', bytes('old'))
    await expect(store.set('k', new Uint8Array(9))).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
      key: 'k',
    })
    expect(text(await store.get('k'))).toBe('old')
  })

  test('works through the gateway: objects round-trip and counters read back as numbers', async () => {
    const gateway = new CacheGateway(open(), { prefix: 'gw' })
    await gateway.setValue('user', { id: 1, name: 'Ada', tags: ['x'] })
    expect(await gateway.getValue('user')).toEqual({ id: 1, name: 'Ada', tags: ['x'] })
    await gateway.incr('hits', 3)
    expect(await gateway.getValue('hits')).toBe(3)
  })
})

describe('FileStore expiry', () => {
  test('expiry is inclusive and an expired file is removed on read', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('k', bytes('v'), 100)
    const path = entryPath(store.directory, 'k')
    expect(readFileSync(path).readDoubleBE(8)).toBe(clock.now() + 100)
    clock.advance(100)
    expect(await store.has('k')).toBe(true)
    clock.advance(1)
    expect(await store.get('k')).toBeUndefined()
    expect(existsSync(path)).toBe(false)
  })

  test('a TTL <= 0 removes the key; delete of an expired key resolves false', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('a', bytes('1'))
    await store.set('a', bytes('2'), 0)
    expect(await store.has('a')).toBe(false)
    await store.set('b', bytes('1'), 10)
    clock.advance(11)
    expect(await store.delete('b')).toBe(false)
    expect(listFiles(store.directory)).toEqual([])
  })

  test('increment keeps the TTL of an existing counter; a new one without TTL never expires', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('n', bytes('1'), 100)
    clock.advance(60)
    expect(await store.increment('n', 2)).toBe(3)
    clock.advance(40)
    expect(decodeCounter(await store.get('n'))).toBe(3)
    clock.advance(1)
    expect(await store.get('n')).toBeUndefined()
    expect(await store.increment('n')).toBe(1)
    clock.advance(10 ** 9)
    expect(decodeCounter(await store.get('n'))).toBe(1)
  })

  test('prune removes expired entries of every prefix and abandoned temporaries', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    const other = store.namespace('other')
    await store.set('short', bytes('1'), 10)
    await other.set('short', bytes('1'), 10)
    await store.set('long', bytes('1'), 1_000)
    const abandoned = `${entryPath(store.directory, 'long')}.dead.tmp`
    writeFileSync(abandoned, 'half')
    const { utimesSync } = await import('node:fs')
    utimesSync(abandoned, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000))
    clock.advance(11)
    expect(await store.prune()).toBe(3)
    expect(listFiles(store.directory)).toEqual([
      entryPath(store.directory, 'long').slice(store.directory.length + 1),
    ])
    expect(text(await store.get('long'))).toBe('1')
  })

  test('the periodic prune runs on its own and stops at close()', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now, pruneInterval: 5 })
    await store.set('a', bytes('1'), 10)
    clock.advance(11)
    const pathA = entryPath(store.directory, 'a')
    await expect.poll(() => existsSync(pathA), { timeout: 20_000 }).toBe(false)
    await store.set('b', bytes('1'), 10)
    await store.close()
    clock.advance(11)
    // Several intervals' worth of real time pass with the timer stopped.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(existsSync(entryPath(store.directory, 'b'))).toBe(true)
  })

  test("the prune timer is unref'd: a process that never closes its store still exits", () => {
    const source = new URL('../src/index.ts', import.meta.url).href
    const script = [
      `import { FileStore } from ${JSON.stringify(source)}`,
      `new FileStore({ directory: ${JSON.stringify(tempDir())}, pruneInterval: 1000 })`,
      "console.log('left running')",
    ].join('\n')
    // A referenced interval would keep the child alive until this hang guard kills it.
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { encoding: 'utf8', timeout: 60_000 },
    )
    expect(output.trim()).toBe('left running')
  })
})

describe('FileStore namespaces and clear', () => {
  test('clear() removes only the entries under its own prefix', async () => {
    const root = open()
    const users = root.namespace('users')
    const posts = root.namespace('posts')
    // An unrelated store on the same directory with its own prefix.
    const foreign = open({ directory: root.directory, prefix: 'foreign:' })
    await root.set('top', bytes('1'))
    await users.set('1', bytes('u'))
    await users.namespace('deep').set('1', bytes('d'))
    await posts.set('1', bytes('p'))
    await foreign.set('1', bytes('f'))
    await users.clear()
    expect(await users.get('1')).toBeUndefined()
    expect(await users.namespace('deep').get('1')).toBeUndefined()
    expect(text(await posts.get('1'))).toBe('p')
    expect(text(await root.get('top'))).toBe('1')
    expect(text(await foreign.get('1'))).toBe('f')
    await foreign.clear()
    expect(text(await root.get('top'))).toBe('1')
    expect(await foreign.get('1')).toBeUndefined()
  })

  test('a namespace whose name is a string prefix of another is told apart', async () => {
    const root = open()
    await root.namespace('user').set('k', bytes('1'))
    await root.namespace('users').set('k', bytes('2'))
    await root.namespace('user').clear()
    expect(text(await root.namespace('users').get('k'))).toBe('2')
  })

  test('lock state files survive clear(), so fencing tokens keep increasing', async () => {
    const store = open()
    const lock = store.lock('job')
    expect(await lock.acquire()).toBe(1)
    await lock.release()
    await store.clear()
    expect(await store.lock('job').acquire()).toBe(2)
  })
})

describe('FileStore lifecycle and options', () => {
  test('close() is idempotent; the store and its namespaces refuse use afterwards', async () => {
    const store = open()
    const child = store.namespace('child')
    await store.close()
    await store.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(child.set('k', bytes('v'))).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(store.lock('x').acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
  })

  test('closing a namespace leaves the parent open', async () => {
    const store = open()
    const child = store.namespace('child')
    await child.close()
    await store.set('k', bytes('v'))
    expect(text(await store.get('k'))).toBe('v')
  })

  test('impossible options are refused in the constructor', () => {
    const directory = tempDir()
    const bad = [
      {},
      { directory: '' },
      { directory, staleMutexAfter: 500 },
      { directory, maxValueSize: 0 },
      { directory, maxValueSize: 2 ** 33 },
      { directory, pruneInterval: 'soon' },
      { directory, defaultTtl: 'never-ish' },
    ]
    for (const options of bad) {
      expect(() => new FileStore(options as never)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
      )
    }
  })

  test('increment on a value that is not a counter throws E_NOT_A_NUMBER and keeps it', async () => {
    const store = open()
    await store.set('k', bytes('abc'))
    await expect(store.increment('k')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER', key: 'k' })
    expect(text(await store.get('k'))).toBe('abc')
  })
})
