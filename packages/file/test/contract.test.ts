import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
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
  const store = new FileStore({ directory: tempDir('contract'), pruneInterval: false, ...options })
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  removeTempDirs()
})

const expiryOf = (path: string) => readFileSync(path).readDoubleBE(8)

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const key of iterable) out.push(key)
  return out.sort()
}

describe('FileStore increment with a TTL', () => {
  test('the TTL is written with the counter that creates the key, and only then', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    expect(await store.increment('n', 2, { ttl: 1_000 })).toBe(2)
    const path = entryPath(store.directory, 'n')
    expect(expiryOf(path)).toBe(clock.now() + 1_000)
    clock.advance(600)
    expect(await store.increment('n', 3, { ttl: 50_000 })).toBe(5)
    expect(expiryOf(path)).toBe(clock.now() - 600 + 1_000)
    clock.advance(401)
    expect(await store.get('n')).toBeUndefined()
    expect(await store.increment('n', 1, { ttl: '1s' })).toBe(1)
    expect(await store.ttl('n')).toBe(1_000)
  })

  test('omitted TTL takes defaultTtl; null never expires; a TTL <= 0 keeps nothing', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now, defaultTtl: 500 })
    await store.increment('default')
    expect(await store.ttl('default')).toBe(500)
    await store.increment('forever', 1, { ttl: null })
    expect(await store.ttl('forever')).toBeNull()
    expect(await store.increment('gone', 7, { ttl: '0s' })).toBe(7)
    expect(await store.increment('gone', 7, { ttl: -1 })).toBe(7)
    expect(existsSync(entryPath(store.directory, 'gone'))).toBe(false)
  })

  test('a bad TTL is refused naming the key, and nothing is written', async () => {
    const store = open()
    await expect(store.increment('n', 1, { ttl: 'soon' })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
      key: 'n',
    })
    expect(listFiles(store.directory)).toEqual([])
  })

  test('past the safe-integer range is refused with E_NOT_A_NUMBER and nothing changes', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.increment('n', Number.MAX_SAFE_INTEGER - 1, { ttl: 10_000 })
    expect(await store.increment('n')).toBe(Number.MAX_SAFE_INTEGER)
    const before = readFileSync(entryPath(store.directory, 'n'))
    await expect(store.increment('n')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER', key: 'n' })
    await store.set('low', bytes(String(-Number.MAX_SAFE_INTEGER)))
    await expect(store.increment('low', -1)).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
    expect(readFileSync(entryPath(store.directory, 'n')).equals(before)).toBe(true)
    expect(text(await store.get('low'))).toBe(String(-Number.MAX_SAFE_INTEGER))
  })

  test('counter bytes that are not canonical decimal are refused and kept', async () => {
    const store = open()
    for (const odd of ['007', '+5', ' 5', '5 ', '-0']) {
      await store.set('odd', bytes(odd))
      await expect(store.increment('odd')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
      expect(text(await store.get('odd'))).toBe(odd)
    }
  })
})

describe('FileStore touch and ttl', () => {
  test('touch replaces the TTL of a live entry and keeps its bytes', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('k', bytes('v'), 100)
    expect(await store.touch('k', '1m')).toBe(true)
    expect(await store.ttl('k')).toBe(60_000)
    expect(await store.touch('k', null)).toBe(true)
    expect(await store.ttl('k')).toBeNull()
    clock.advance(10 ** 9)
    expect(text(await store.get('k'))).toBe('v')
  })

  test('touch never revives an expired entry and resolves false for a missing key', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('k', bytes('v'), 100)
    clock.advance(101)
    expect(await store.touch('k', '1h')).toBe(false)
    expect(await store.get('k')).toBeUndefined()
    expect(existsSync(entryPath(store.directory, 'k'))).toBe(false)
    expect(await store.touch('missing', '1h')).toBe(false)
  })

  test('touch with a TTL <= 0 removes a live entry and resolves true', async () => {
    const store = open()
    await store.set('k', bytes('v'))
    expect(await store.touch('k', '0ms')).toBe(true)
    expect(await store.has('k')).toBe(false)
    expect(await store.touch('k', 0)).toBe(false)
  })

  test('ttl: remaining ms rounded up, null without expiry, undefined when missing', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('k', bytes('v'), 1500.5)
    expect(expiryOf(entryPath(store.directory, 'k'))).toBe(clock.now() + 1501)
    expect(await store.ttl('k')).toBe(1501)
    clock.advance(1500)
    expect(await store.ttl('k')).toBe(1)
    await store.set('plain', bytes('v'))
    expect(await store.ttl('plain')).toBeNull()
    expect(await store.ttl('missing')).toBeUndefined()
  })

  test('one expiry boundary: alive at exactly t + ttl on every method, gone 1 ms later', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    const atBoundary = async () => {
      clock.advance(100)
      expect(await store.has('k')).toBe(true)
      expect(text(await store.get('k'))).toBe('1')
      expect((await store.getMany(['k']))[0]).toBeDefined()
      expect(await store.ttl('k')).toBe(1)
      expect(await store.add('k', bytes('x'))).toBe(false)
    }
    await store.set('k', bytes('1'), 100)
    await atBoundary()
    expect(await store.increment('k')).toBe(2)
    clock.advance(1)
    expect(await store.has('k')).toBe(false)
    expect(await store.ttl('k')).toBeUndefined()
    await store.set('k', bytes('1'), 100)
    await atBoundary()
    expect(await store.touch('k', 100)).toBe(true)
    await store.set('k', bytes('1'), 100)
    await atBoundary()
    expect(await store.delete('k')).toBe(true)
    await store.set('k', bytes('1'), 100)
    clock.advance(101)
    expect(await store.delete('k')).toBe(false)
    expect(await store.increment('k')).toBe(1)
  })

  test('deleteMany counts only live entries', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    await store.set('expired', bytes('1'), 10)
    await store.set('live', bytes('1'))
    clock.advance(11)
    expect(await store.deleteMany(['expired', 'live'])).toBe(1)
    expect(listFiles(store.directory)).toEqual([])
  })
})

describe('FileStore keys()', () => {
  test('lists the live plain keys of this namespace only, each once', async () => {
    const clock = manualClock()
    const root = open({ now: clock.now })
    const users = root.namespace('users')
    await root.setMany([
      ['a', bytes('1')],
      ['users:42', bytes('1')],
      ['~tilde', bytes('1')],
      ['ключ 🔑', bytes('1')],
    ])
    await root.set('short', bytes('1'), 10)
    await users.set('42', bytes('u'))
    await users.namespace('deep').set('x', bytes('d'))
    await root.lock('job').acquire()
    clock.advance(11)
    expect(await collect(root.keys())).toEqual(['a', 'users:42', 'ключ 🔑', '~tilde'].sort())
    expect(await collect(users.keys())).toEqual(['42'])
    expect(await collect(users.namespace('deep').keys())).toEqual(['x'])
    expect(await collect(root.namespace('empty').keys())).toEqual([])
  })

  test('skips corrupt files and files under a name that is not their key', async () => {
    const store = open()
    await store.set('good', bytes('1'))
    await store.set('torn', bytes('a longer value'))
    await store.set('moved', bytes('1'))
    const torn = entryPath(store.directory, 'torn')
    const file = readFileSync(torn)
    file[file.length - 1]! ^= 1
    writeFileSync(torn, file)
    // A valid file of key 'moved' copied under the name of another key.
    const elsewhere = entryPath(store.directory, 'elsewhere')
    mkdirSync(dirname(elsewhere), { recursive: true })
    writeFileSync(elsewhere, readFileSync(entryPath(store.directory, 'moved')))
    expect(await collect(store.keys())).toEqual(['good', 'moved'])
  })

  test('an empty or missing directory lists nothing', async () => {
    const store = open({ directory: `${tempDir('contract')}/not-yet` })
    expect(await collect(store.keys())).toEqual([])
  })
})

describe('FileStore namespaces cannot alias', () => {
  test("a namespace's keys are unreachable from the parent's plain keys, and the reverse", async () => {
    const root = open()
    const users = root.namespace('users')
    await root.set('users:42', bytes('root'))
    await users.set('42', bytes('ns'))
    expect(text(await root.get('users:42'))).toBe('root')
    expect(text(await users.get('42'))).toBe('ns')
    await root.set('~users:7', bytes('tilde'))
    expect(await users.get('7')).toBeUndefined()
  })

  test("a namespace's clear keeps the root's users:42 and a sibling whose name extends it", async () => {
    const root = open()
    await root.set('users:42', bytes('root'))
    await root.set('~users:42', bytes('tilde'))
    await root.namespace('users').set('42', bytes('ns'))
    await root.namespace('users2').set('42', bytes('sibling'))
    await root.namespace('users').clear()
    expect(await root.namespace('users').get('42')).toBeUndefined()
    expect(text(await root.get('users:42'))).toBe('root')
    expect(text(await root.get('~users:42'))).toBe('tilde')
    expect(text(await root.namespace('users2').get('42'))).toBe('sibling')
  })

  test('lock names are scoped per namespace, apart from the parent and from cache keys', async () => {
    const root = open()
    const users = root.namespace('users')
    expect(await root.lock('users:job').acquire()).toBe(1)
    expect(await users.lock('job').acquire()).toBe(1)
    expect(users.lock('job').name).toBe('job')
    await root.set('users:job', bytes('a cache entry'))
    expect(await users.lock('job').isLocked()).toBe(true)
    await users.clear()
    expect(await users.lock('job').isLocked()).toBe(true)
  })
})

describe('FileStore input rules', () => {
  test('a key with a lone surrogate is refused on every method and nothing is written', async () => {
    const store = open()
    const lone = ['\uD800', '\uDBFF', `user:${'🔑'.slice(0, 1)}`, `user:${'🔒'.slice(1)}`]
    for (const key of lone) {
      const calls: Array<() => Promise<unknown>> = [
        () => store.get(key),
        () => store.getMany(['ok', key]),
        () => store.set(key, bytes('v')),
        () =>
          store.setMany([
            ['ok', bytes('v')],
            [key, bytes('v')],
          ]),
        () => store.add(key, bytes('v')),
        () => store.has(key),
        () => store.delete(key),
        () => store.deleteMany(['ok', key]),
        () => store.increment(key, 1, { ttl: '1h' }),
        () => store.touch(key, '1h'),
        () => store.ttl(key),
      ]
      for (const call of calls)
        await expect(call()).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
      expect(() => store.namespace(key)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
      expect(() => store.lock(key)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
    }
    expect(listFiles(store.directory)).toEqual([])
  })

  test('a prefix with a lone surrogate is refused in the constructor', () => {
    expect(() => new FileStore({ directory: tempDir(), prefix: 'app\uD800' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})

describe('FileStore closing rule', () => {
  test('closing the root makes its namespaces and every lock handle reject E_STORE_CLOSED', async () => {
    const root = open()
    const users = root.namespace('users')
    const rootLock = root.lock('job')
    const nsLock = users.lock('job')
    await nsLock.acquire()
    await root.close()
    for (const call of [
      () => rootLock.acquire(),
      () => nsLock.release(),
      () => nsLock.extend(1_000),
      () => nsLock.isLocked(),
      () => nsLock.forceRelease(),
      () => root.lock('late').acquire(),
      () => users.touch('k', 1),
      () => users.ttl('k'),
      () => users.increment('k', 1, { ttl: 1 }),
      () => collect(users.keys()),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    }
  })

  test('closing a namespace refuses its own calls and locks, and releases nothing shared', async () => {
    const root = open()
    const users = root.namespace('users')
    const nsLock = users.lock('job')
    await users.close()
    await expect(nsLock.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    await expect(users.keys().next()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await root.lock('job').acquire()).toBe(1)
    expect(await root.namespace('users').lock('job').acquire()).toBe(1)
    await root.set('k', bytes('v'))
    expect(await collect(root.keys())).toEqual(['k'])
  })

  test('a store constructed after namespace() is a root of its own', async () => {
    const store = open()
    expect(store.namespace('child').prefix).toBe('~child:')
    expect(() => store.namespace('\uD800')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    )
    const again = new FileStore({ directory: store.directory, pruneInterval: false })
    stores.push(again)
    await store.close()
    await again.set('k', bytes('v'))
    expect(text(await again.get('k'))).toBe('v')
  })
})
