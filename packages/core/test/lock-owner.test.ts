import { describe, expect, test } from 'vitest'
import { Lock, randomOwner } from '../src/index.js'
import { mapLockBackend } from './map-store.js'

describe('randomOwner', () => {
  test('128 random bits as 32 hex characters, distinct across pool refills', () => {
    // 256 tokens per refill of the byte pool: 3,000 calls cross it several times.
    const owners = Array.from({ length: 3_000 }, () => randomOwner())
    for (const owner of owners) expect(owner).toMatch(/^[0-9a-f]{32}$/)
    expect(new Set(owners).size).toBe(owners.length)
  })

  test('a new Lock gets a fresh owner; a given one is kept', () => {
    const backend = mapLockBackend()
    const a = new Lock(backend, 'job')
    const b = new Lock(backend, 'job')
    expect(a.owner).not.toBe(b.owner)
    expect(new Lock(backend, 'job', { owner: a.owner }).owner).toBe(a.owner)
  })
})

describe('Lock promise contract', () => {
  test('a backend that throws synchronously makes acquire and release reject, not throw', async () => {
    const failure = new Error('backend down')
    const backend = {
      ...mapLockBackend(),
      acquire: () => {
        throw failure
      },
      release: () => {
        throw failure
      },
    }
    const lock = new Lock(backend, 'job')
    const acquired = lock.acquire()
    const released = lock.release()
    await expect(acquired).rejects.toBe(failure)
    await expect(released).rejects.toBe(failure)
  })

  test('acquire keeps the fencing token; release by a non-owner rejects with E_LOCK_NOT_OWNED', async () => {
    const backend = mapLockBackend()
    const lock = new Lock(backend, 'job')
    const token = await lock.acquire()
    expect(token).not.toBe(false)
    expect(lock.fencingToken).toBe(token)
    expect(await new Lock(backend, 'job').acquire()).toBe(false)
    await expect(new Lock(backend, 'job').release()).rejects.toMatchObject({
      code: 'E_LOCK_NOT_OWNED',
    })
    await lock.release()
  })
})
