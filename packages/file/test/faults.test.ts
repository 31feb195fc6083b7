import { execFileSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { bytes, listFiles, manualClock, removeTempDirs, tempDir, text } from './helpers.js'

// Root ignores permission bits, so a chmod'ed directory stays writable for root: faults are made
// with real mounts (a small tmpfs, remounted read-only, or filled up). Without root, a read-only
// directory falls back to chmod 0555, which does stop a normal user.
const isRoot = process.getuid?.() === 0
const mounts: string[] = []

function mountTmpfs(size: string): string {
  const dir = tempDir('mount')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir])
  } catch (error) {
    throw new Error(
      `[cellar:file test] cannot mount a tmpfs at ${dir} (needs root with CAP_SYS_ADMIN); ` +
        'the full-disk and read-only fault tests need it',
      { cause: error },
    )
  }
  mounts.push(dir)
  return dir
}

function makeReadOnly(dir: string): void {
  if (mounts.includes(dir)) execFileSync('mount', ['-o', 'remount,ro', dir])
  else chmodSync(dir, 0o555)
}

function makeWritable(dir: string): void {
  if (mounts.includes(dir)) execFileSync('mount', ['-o', 'remount,rw', dir])
  else chmodSync(dir, 0o755)
}

const stores: FileStore[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  for (const dir of mounts.splice(0)) execFileSync('umount', [dir])
  removeTempDirs()
})

async function expectBackendError(promise: Promise<unknown>, errno: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' })
  expect((error as Error).message).toMatch(/^\[cellar:file\]/)
  expect((error as { cause?: { code?: string } }).cause?.code).toBe(errno)
}

describe('FileStore faults', () => {
  test('a read-only directory gives E_BACKEND_UNAVAILABLE and loses nothing', async () => {
    // A fan-out-free layout keeps the non-root chmod fallback meaningful (one directory).
    const directory = isRoot ? mountTmpfs('4m') : tempDir('ro')
    const clock = manualClock()
    const store = new FileStore({ directory, fanOut: false, pruneInterval: false, now: clock.now })
    stores.push(store)
    await store.set('kept', bytes('old'))
    await store.set('short', bytes('x'), 10)
    await store.increment('n', 5)
    const before = listFiles(directory)
    makeReadOnly(directory)
    const errno = isRoot ? 'EROFS' : 'EACCES'

    await expectBackendError(store.set('kept', bytes('new')), errno)
    await expectBackendError(store.set('fresh', bytes('new')), errno)
    await expectBackendError(store.setMany([['kept', bytes('new')]]), errno)
    await expectBackendError(store.add('fresh', bytes('new')), errno)
    await expectBackendError(store.increment('n'), errno)
    await expectBackendError(store.delete('kept'), errno)
    await expectBackendError(store.clear(), errno)
    await expectBackendError(store.lock('job').acquire(), errno)

    expect(text(await store.get('kept'))).toBe('old')
    expect(text(await store.get('n'))).toBe('5')
    // An expired entry still reads as a miss; removing it just waits for a writable directory.
    clock.advance(11)
    expect(await store.get('short')).toBeUndefined()
    expect(listFiles(directory)).toEqual(before)

    makeWritable(directory)
    await store.set('kept', bytes('new'))
    expect(text(await store.get('kept'))).toBe('new')
    expect(await store.increment('n')).toBe(6)
  })

  test('a full disk gives E_BACKEND_UNAVAILABLE, keeps the old value and leaves no temp file', async () => {
    const directory = mountTmpfs('256k')
    const store = new FileStore({ directory, pruneInterval: false })
    stores.push(store)
    await store.set('kept', bytes('old'))
    await store.increment('n', 5)
    const filler = join(directory, 'filler')
    expect(() => writeFileSync(filler, Buffer.alloc(1024 * 1024))).toThrow(/ENOSPC/)

    await expectBackendError(store.set('kept', new Uint8Array(64 * 1024)), 'ENOSPC')
    await expectBackendError(store.set('fresh', new Uint8Array(64 * 1024)), 'ENOSPC')
    await expectBackendError(store.increment('n'), 'ENOSPC')
    expect(text(await store.get('kept'))).toBe('old')
    expect(text(await store.get('n'))).toBe('5')
    expect(await store.get('fresh')).toBeUndefined()
    expect(listFiles(directory).filter((file) => file.endsWith('.tmp'))).toEqual([])

    execFileSync('rm', [filler])
    await store.set('kept', new Uint8Array(64 * 1024).fill(1))
    expect((await store.get('kept'))?.length).toBe(64 * 1024)
    expect(await store.increment('n')).toBe(6)
  })
})
