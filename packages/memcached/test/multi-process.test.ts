import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { decodeCounter } from '@cellar/core'
import { uniquePrefix, useMemcached } from '@cellar/test-servers'
import { afterAll, describe, expect, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'

const memcached = await useMemcached()
const worker = fileURLToPath(new URL('./helpers/increment-worker.ts', import.meta.url))

/** Runs one worker process to completion; resolves what it reported. */
function run(args: string[]): Promise<{ done?: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(worker, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
    let report: { done?: number; error?: string } = {}
    child.on('message', (message) => {
      report = message as typeof report
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code === 0) resolve(report)
      else reject(new Error(`worker exited with ${code}: ${report.error ?? 'no report'}`))
    })
  })
}

describe.skipIf(!memcached)('MemcachedStore across processes', () => {
  const prefix = uniquePrefix('memcached-mp')
  const store = new MemcachedStore({ servers: memcached?.servers, prefix })
  afterAll(async () => {
    await store.clear()
    await store.close()
  })

  test('4 processes × 1,000 increments end at exactly 4,000', async () => {
    const reports = await Promise.all(
      Array.from({ length: 4 }, () => run([memcached!.servers, prefix, 'hits', '1000', 'up'])),
    )
    expect(reports.map((report) => report.done)).toEqual([1000, 1000, 1000, 1000])
    expect(decodeCounter(await store.get('hits'))).toBe(4000)
  }, 120_000)

  test.each(['fresh', 'fresh-ttl'])(
    '4 processes create the same 1,000 fresh counters at once (%s): each ends at exactly 4',
    async (mode) => {
      const reports = await Promise.all(
        Array.from({ length: 4 }, () => run([memcached!.servers, prefix, mode, '1000', mode])),
      )
      expect(reports.map((report) => report.done)).toEqual([1000, 1000, 1000, 1000])
      const keys = Array.from({ length: 1000 }, (_, i) => `${mode}:${i}`)
      const values = (await store.getMany(keys)).map((value) => decodeCounter(value))
      expect(values.filter((value) => value === 4)).toHaveLength(1000)
    },
    120_000,
  )

  test('4 processes × 500 alternating +3 / -1 (compare-and-swap path) net out exactly', async () => {
    await store.set('net', new TextEncoder().encode('-1'))
    const reports = await Promise.all(
      Array.from({ length: 4 }, () => run([memcached!.servers, prefix, 'net', '500', 'mixed'])),
    )
    expect(reports.map((report) => report.done)).toEqual([500, 500, 500, 500])
    expect(decodeCounter(await store.get('net'))).toBe(-1 + 4 * (250 * 3 - 250))
  }, 120_000)
})
