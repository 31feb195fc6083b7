import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useRedis } from '@cellar/test-servers'
import { afterAll, describe, expect, test } from 'vitest'
import type { BusJob, BusReport } from './workers/stampede-bus.js'

// The lock waiters of `remember` woken by a bus instead of their poll: every worker polls only
// every ten minutes, so a run that ends within the test's timeout was woken by the messages.
const PROCESSES = 4
const CALLERS = 100
const worker = fileURLToPath(new URL('./workers/stampede-bus.ts', import.meta.url))
const tsconfig = fileURLToPath(new URL('./workers/tsconfig.json', import.meta.url))
const directory = mkdtempSync(join(tmpdir(), 'cellar-stampede-bus-'))
const redis = await useRedis()
afterAll(() => rmSync(directory, { recursive: true, force: true }))

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly report: Promise<BusReport>
  readonly exit: Promise<number | null>
}

function start(job: BusJob): Worker {
  const child = fork(worker, [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: 'inherit',
  })
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', () => reject(new Error('worker exited before it was ready')))
  })
  const report = new Promise<BusReport>((resolve, reject) => {
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null) resolve(message as BusReport)
    })
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)))
  })
  report.catch(() => {})
  return { child, ready, report, exit }
}

const loads = (log: string) =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('load '))
    .map((line) => Number(line.slice(5)))

async function race(url: string, leaderFails: boolean) {
  const log = join(directory, `${randomUUID()}.log`)
  writeFileSync(log, '')
  const id = randomUUID().slice(0, 8)
  const job: BusJob = {
    url,
    prefix: `sb${id}:`,
    channel: `stampede-bus-${id}`,
    key: 'hot',
    log,
    callers: CALLERS,
    loadMs: 200,
    leaderFails,
  }
  const workers = Array.from({ length: PROCESSES }, () => start(job))
  await Promise.all(workers.map((w) => w.ready))
  for (const w of workers) w.child.send('go')
  const reports = await Promise.all(workers.map((w) => w.report))
  expect(await Promise.all(workers.map((w) => w.exit))).toEqual(Array(PROCESSES).fill(0))
  return { loaders: loads(log), reports, workers }
}

describe.skipIf(!redis)('remember({ lock: { bus } }) across processes on Redis', () => {
  test(`${PROCESSES} processes × ${CALLERS} callers: one load in total; the waiters are woken by the message`, async () => {
    const { loaders, reports } = await race(redis!.url, false)
    expect(loaders).toHaveLength(1)
    for (const report of reports) {
      expect(report).toEqual({ values: [`value of ${loaders[0]}`], rejected: 0 })
    }
  }, 120_000)

  test('the leader fails: its release is announced, and exactly one other process loads for the rest', async () => {
    const { loaders, reports, workers } = await race(redis!.url, true)
    expect(loaders).toHaveLength(2)
    const [leader, producer] = loaders as [number, number]
    expect(producer).not.toBe(leader)
    for (const [i, report] of reports.entries()) {
      if (workers[i]!.child.pid === leader) {
        // The leader's own callers share its failed load.
        expect(report).toEqual({ values: [], rejected: CALLERS })
      } else {
        expect(report).toEqual({ values: [`value of ${producer}`], rejected: 0 })
      }
    }
  }, 120_000)
})
