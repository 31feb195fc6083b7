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
