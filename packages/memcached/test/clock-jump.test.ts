import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { canStartMemcached, freePort, uniquePrefix } from '@cellar/test-servers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MemcachedStore } from '../src/index.js'

// memcached keeps its clock in whole seconds of CLOCK_MONOTONIC, set by a 1 s timer that re-arms
// itself after each run. When a run comes late (a busy machine), the clock can move by 2 at once,
// and an item written just before, with an expiry relative to the stale clock, loses up to a
// second. The test makes that jump on purpose: it pauses the server (SIGSTOP) across a timer run.
// `process.hrtime` reads CLOCK_MONOTONIC on Linux, the clock memcached uses.
const monotonic = () => Number(process.hrtime.bigint()) / 1e9

async function until(at: number): Promise<void> {
  const left = at - monotonic()
  if (left > 0.02) await sleep((left - 0.015) * 1000)
  while (monotonic() < at) {
    // spin the last few milliseconds: a timer alone may wake several ms late
  }
}

const linux = process.platform === 'linux'

describe.skipIf(!linux || !canStartMemcached())('memcached clock jumps', () => {
  let server: ChildProcess
  let store: MemcachedStore
  const pause = () => server.kill('SIGSTOP')
  const resume = () => server.kill('SIGCONT')

  beforeAll(async () => {
    const port = await freePort()
    const binary = execFileSync('sh', ['-c', 'command -v memcached']).toString().trim()
    server = spawn(binary, ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-u', 'root'], {
      stdio: 'ignore',
    })
    store = new MemcachedStore({ servers: `127.0.0.1:${port}`, prefix: uniquePrefix('jump') })
    for (let i = 0; i < 100; i++) {
      try {
        await store.set('ready', new Uint8Array([1]))
        return
      } catch {
        await sleep(50)
      }
    }
  })

  afterAll(async () => {
    await store?.close()
    server?.kill('SIGCONT')
    server?.kill('SIGKILL')
  })

  test('an entry written just before the clock moves by 2 still lives its TTL', async () => {
    let judged = 0
    for (let attempt = 0; attempt < 3 && judged === 0; attempt++) {
      // Put the timer's runs at 0.6 s past each second: pause across more than a second, so the
      // overdue run happens when the server resumes.
      pause()
      const base = Math.floor(monotonic())
      await until(base + 2.6)
      resume()
      // From here on runs come at about k + 0.6, each setting the clock to k. At k + 1.45 the
      // clock still reads k (1.45 s stale): write then, and hold the next run back until past
      // k + 2, so it sets the clock to k + 2 at once.
      const k = base + 4
      await until(k + 1.45)
      const key = `jump-${attempt}`
      const written = Date.now()
      await store.set(key, new Uint8Array([7]), 1000)
      pause()
      await until(k + 2.05)
      resume()
      await sleep(50)
      const present = await store.has(key)
      const after = Date.now() - written
      // Only a read well inside the TTL is judged (a slow machine may miss the timing).
      if (after >= 900 || monotonic() >= k + 2.3) continue
      judged++
      expect(present, `gone ${after} ms after a write with a 1000 ms TTL`).toBe(true)
    }
    expect(judged, 'no attempt read within the TTL (machine too slow?)').toBe(1)
  }, 30_000)
})
