import { describe, expect, test } from 'vitest'
import { MemoryLockBackend } from '../src/index.js'

describe('MemoryLockBackend', () => {
  test('one record per name: tokens go on after release, force release and expiry', async () => {
    let now = 1_000
    const backend = new MemoryLockBackend(() => now)
    expect(await backend.acquire('job', 'a', 100)).toBe(1)
    expect(await backend.acquire('job', 'b', 100)).toBe(false)
    expect(await backend.release('job', 'a')).toBe(true)
    expect(await backend.release('job', 'a')).toBe(false)
    expect(await backend.acquire('job', 'b', 100)).toBe(2)
    await backend.forceRelease('job')
    expect(await backend.inspect('job')).toBeUndefined()
    expect(await backend.acquire('job', 'c', 100)).toBe(3)
    now += 100
    // Expired: its owner can neither release nor extend it, and anyone may take it.
    expect(await backend.release('job', 'c')).toBe(false)
    expect(await backend.extend('job', 'c', 100)).toBe(false)
    expect(await backend.acquire('job', 'd', null)).toBe(4)
    expect(await backend.inspect('job')).toEqual({ owner: 'd', remainingMs: null })
  })

  test('an empty owner string is an owner like any other', async () => {
    const backend = new MemoryLockBackend(() => 0)
    expect(await backend.acquire('job', '', null)).toBe(1)
    expect(await backend.acquire('job', 'x', null)).toBe(false)
    expect(await backend.release('job', '')).toBe(true)
  })
})
