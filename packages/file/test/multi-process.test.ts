import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { removeTempDirs, tempDir, text } from './helpers.js'

const PROCESSES = 4

function run(worker: string, args: string[]): Promise<void> {
  const path = fileURLToPath(new URL(`./workers/${worker}`, import.meta.url))
  return new Promise((resolve, reject) => {
    const child = fork(path, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${worker} exited with ${code}`)),
    )
  })
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
