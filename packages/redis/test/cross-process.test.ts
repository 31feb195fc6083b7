import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeCounter } from '@cellar/core'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisStore } from '../src/index.js'

const redis = await useRedis()
const worker = fileURLToPath(new URL('./workers/contender.ts', import.meta.url))
const PROCESSES = 4
const INCREMENTS = 1_000
const ROUNDS = 25

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = fork(worker, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
    child.once('error', reject)
    child.once('exit', (code) => resolve(code))
  })
}

describe.skipIf(!redis)('RedisStore across processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-redis-'))
  const prefix = uniquePrefix('redis-procs')
  let store: RedisStore

  beforeAll(() => {
    store = new RedisStore({ connection: redis!.url, prefix })
  })
  afterAll(async () => {
    await store.clear()
    await store.lock('shared').forceRelease()
    await store.client.del(`cellar-lock:{${prefix}shared}:fence`)
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('4 processes: counters add up exactly; one lock holder at a time, tokens increasing', async () => {
    const log = join(dir, 'holders.log')
    const args = [redis!.url, prefix, log, String(INCREMENTS), String(ROUNDS)]
    const codes = await Promise.all(Array.from({ length: PROCESSES }, () => run(args)))
    expect(codes).toEqual(Array(PROCESSES).fill(0))

    expect(decodeCounter(await store.get('total'))).toBe(PROCESSES * INCREMENTS)

    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(PROCESSES * ROUNDS * 2)
    const pids = new Set<string>()
    let lastToken = 0
    for (let i = 0; i < lines.length; i += 2) {
      const [event, pid, token] = lines[i]!.split(' ')
      // Each acquire is followed by the same holder's release: nobody else got in between.
      expect(event).toBe('acquire')
      expect(lines[i + 1]).toBe(`release ${pid} ${token}`)
      expect(Number(token)).toBeGreaterThan(lastToken)
      lastToken = Number(token)
      pids.add(pid!)
    }
    expect(pids.size).toBe(PROCESSES)
  }, 120_000)
})
