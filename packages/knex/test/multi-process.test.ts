import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeCounter } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import { KnexStore } from '../src/index.js'
import type { Target } from './helpers.js'
import { tempDir } from './helpers.js'
import { useTargets } from './targets.js'

const PROCESSES = 4
const INCREMENTS = 1_000
const ROUNDS = 50

const { targets, open } = await useTargets()

/** Forks a worker under tsx; resolves the messages it sent once it exits cleanly. */
function run(worker: string, args: string[]): Promise<unknown[]> {
  const path = fileURLToPath(new URL(`./workers/${worker}`, import.meta.url))
  return new Promise((resolve, reject) => {
    const messages: unknown[] = []
    const child = fork(path, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
    child.on('message', (message) => messages.push(message))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(messages) : reject(new Error(`${worker} exited with ${code}`)),
    )
  })
}

const spread = (count: number, job: (index: number) => Promise<unknown[]>) =>
  Promise.all(Array.from({ length: count }, (_, index) => job(index)))

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore across processes on ${name}`, () => {
    if (target === undefined) return
    const json = (t: Target) => JSON.stringify(t)
    const journals = target.kind === 'sqlite' ? (['wal', 'delete'] as const) : (['-'] as const)

    for (const journal of journals) {
      const mode = target.kind === 'sqlite' ? ` (journal_mode ${journal})` : ''
      test(`${PROCESSES} processes × ${INCREMENTS} increments of one key give exactly ${PROCESSES * INCREMENTS}${mode}`, async () => {
        const own: Target =
          target.kind === 'sqlite'
            ? { kind: 'sqlite', filename: join(tempDir('inc'), 'counter.db') }
            : target
        const knex = open(own, undefined, undefined, journal === 'delete' ? 'delete' : 'wal')
        const store = new KnexStore({ knex, prefix: 'mp:', pruneInterval: false })
        await store.delete('counter')
        await spread(PROCESSES, () =>
          run('increment-worker.ts', [json(own), String(INCREMENTS), journal]),
        )
        expect(decodeCounter(await store.get('counter'))).toBe(PROCESSES * INCREMENTS)
        await store.close()
      }, 240_000)
    }

    test(`${PROCESSES} processes contending for one lock never hold it together; tokens increase`, async () => {
      const log = join(tempDir('lock'), 'holders.log')
      const knex = open(target)
      const store = new KnexStore({ knex, prefix: 'mp:', pruneInterval: false })
      await store.lock('shared').forceRelease()
      const [before] = await knex('cellar_locks').where('name', 'mp:shared').select('fence')
      const first = Number(before?.fence ?? 0)
      await spread(PROCESSES, (id) =>
        run('lock-worker.ts', [json(target), String(ROUNDS), log, String(id)]),
      )
      const lines = readFileSync(log, 'utf8').trim().split('\n')
      expect(lines).toHaveLength(PROCESSES * ROUNDS * 2)
      let last = first
      for (let i = 0; i < lines.length; i += 2) {
        const [enter, who, token] = (lines[i] as string).split(' ')
        expect(enter).toBe('enter')
        // The next line is the same holder leaving: nobody entered in between.
        expect(lines[i + 1]).toBe(`exit ${who} ${token}`)
        expect(Number(token)).toBe(last + 1)
        last = Number(token)
      }
      await store.close()
    }, 240_000)

    test('two processes racing the lazy table creation both succeed; one add wins', async () => {
      const table = `race_${Date.now()}_${process.pid}`
      const results = (await spread(2, () => run('create-worker.ts', [json(target), table]))).flat()
      expect(results).toHaveLength(2)
      const outcomes = results as Array<{ added: boolean; token: number | false }>
      expect(outcomes.filter((outcome) => outcome.added)).toHaveLength(1)
      expect(outcomes.filter((outcome) => outcome.token === 1)).toHaveLength(1)
    }, 120_000)
  })
}
