import { mkdirSync, utimesSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { bytes, entryPath, manualClock, removeTempDirs, tempDir, text } from './helpers.js'

const stores: FileStore[] = []
function open(options: Partial<ConstructorParameters<typeof FileStore>[0]> = {}) {
  const store = new FileStore({ directory: tempDir('locks'), pruneInterval: false, ...options })
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  removeTempDirs()
})

describe('FileStore locks', () => {
  test('one holder at a time; tokens strictly increase; release only by the owner', async () => {
    const store = open()
    const a = store.lock('job')
    const b = store.lock('job')
    expect(await a.acquire()).toBe(1)
    expect(await b.acquire()).toBe(false)
    await expect(b.release()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
    await a.release()
    expect(await b.acquire()).toBe(2)
    expect(await b.isOwned()).toBe(true)
    await b.forceRelease()
    expect(await a.isLocked()).toBe(false)
    expect(await a.acquire()).toBe(3)
  })

  test('a lock is restored from its owner token by another store on the directory', async () => {
    const first = open()
    const second = open({ directory: first.directory })
    const held = first.lock('job', { ttl: null })
    await held.acquire()
    const restored = second.lock('job', { owner: held.owner })
    expect(await restored.isOwned()).toBe(true)
    expect(await restored.remainingTime()).toBeNull()
    await restored.release()
    expect(await held.isLocked()).toBe(false)
  })

  test('expiry and extend follow the clock; an expired lock can be taken', async () => {
    const clock = manualClock()
    const store = open({ now: clock.now })
    const a = store.lock('job', { ttl: 1_000 })
    const b = store.lock('job', { ttl: 1_000 })
    await a.acquire()
    expect(await a.remainingTime()).toBe(1_000)
    clock.advance(900)
    await a.extend(1_000)
    clock.advance(900)
    expect(await b.acquire()).toBe(false)
    clock.advance(100)
    expect(await b.acquire()).toBe(2)
    await expect(a.extend()).rejects.toMatchObject({ code: 'E_LOCK_NOT_OWNED' })
  })

  test('lock names live under the store prefix', async () => {
    const store = open()
    const one = store.namespace('one').lock('job')
    const two = store.namespace('two').lock('job')
    expect(await one.acquire()).toBe(1)
    expect(await two.acquire()).toBe(1)
  })

  test('a mutex left behind by a dead process is taken over once stale', async () => {
    const store = open({ staleMutexAfter: 2_000 })
    const path = entryPath(store.directory, 'n')
    mkdirSync(`${path}.lock`, { recursive: true })
    const old = new Date(Date.now() - 60_000)
    utimesSync(`${path}.lock`, old, old)
    expect(await store.increment('n')).toBe(1)
    expect(await store.add('n', bytes('x'))).toBe(false)
  })

  test('a mutex held by a live holder makes add wait for it, not fail', async () => {
    const store = open()
    const path = entryPath(store.directory, 'k')
    mkdirSync(dirname(path), { recursive: true })
    mkdirSync(`${path}.lock`)
    const pending = store.add('k', bytes('mine'))
    await new Promise((resolve) => setTimeout(resolve, 30))
    const { rmdirSync } = await import('node:fs')
    rmdirSync(`${path}.lock`)
    expect(await pending).toBe(true)
    expect(text(await store.get('k'))).toBe('mine')
  })

  test('concurrent increments and adds in one process are exact', async () => {
    const store = open()
    const results = await Promise.all(Array.from({ length: 200 }, () => store.increment('n')))
    expect(new Set(results).size).toBe(200)
    expect(Math.max(...results)).toBe(200)
    const added = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.add('a', bytes(`${i}`))),
    )
    expect(added.filter(Boolean)).toHaveLength(1)
  })
})
