import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { removeTempDirs, tempDir, text } from './helpers.js'

const PROCESSES = 4

function start(worker: string, args: string[]): { child: ChildProcess; exited: Promise<void> } {
  const path = fileURLToPath(new URL(`./workers/${worker}`, import.meta.url))
  const child = fork(path, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${worker} exited with ${code}`)),
    )
  })
  return { child, exited }
}

function run(worker: string, args: string[]): Promise<void> {
  return start(worker, args).exited
}

afterEach(removeTempDirs)

describe('FileStore across processes', () => {
  test(`${PROCESSES} processes × 1,000 increments give exactly ${PROCESSES * 1_000}`, async () => {
    const directory = tempDir('procs')
    await Promise.all(
      Array.from({ length: PROCESSES }, () => run('increment-worker.ts', [directory, '1000'])),
    )
    const store = new FileStore({ directory, pruneInterval: false })
    expect(text(await store.get('counter'))).toBe(String(PROCESSES * 1_000))
    await store.close()
  }, 180_000)

  test(`${PROCESSES} processes racing to create counters with a TTL: every first increment counts`, async () => {
    const directory = tempDir('procs')
    const windows = 100
    const workers = Array.from({ length: PROCESSES }, () =>
      start('window-worker.ts', [directory, String(windows)]),
    )
    // Everyone waits at the start line, so the creating increments really race.
    await Promise.all(
      workers.map(({ child }) => new Promise((resolve) => child.once('message', resolve))),
    )
    for (const { child } of workers) child.send('go')
    await Promise.all(workers.map(({ exited }) => exited))
    const store = new FileStore({ directory, pruneInterval: false })
    for (let i = 0; i < windows; i++) {
      expect(text(await store.get(`window:${i}`))).toBe(String(PROCESSES))
      const ttl = await store.ttl(`window:${i}`)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(3_600_000)
    }
    expect(text(await store.get('total'))).toBe(String(PROCESSES * windows))
    expect(await store.ttl('total')).toBeLessThanOrEqual(3_600_000)
    await store.close()
  }, 180_000)

  test(`${PROCESSES} processes never hold one lock at once and tokens strictly increase`, async () => {
    const directory = tempDir('procs')
    const log = join(directory, 'holders.log')
    const rounds = 100
    await Promise.all(
      Array.from({ length: PROCESSES }, (_, id) =>
        run('lock-worker.ts', [directory, String(rounds), log, String(id)]),
      ),
    )
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(PROCESSES * rounds * 2)
    let last = 0
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, who, token] = lines[i]!.split(' ')
      expect(enter).toBe('enter')
      // The next line must be the same holder leaving: nobody entered in between.
      expect(lines[i + 1]).toBe(`exit ${who} ${token}`)
      expect(Number(token)).toBeGreaterThan(last)
      last = Number(token)
    }
    expect(last).toBe(PROCESSES * rounds)
  }, 180_000)
})
