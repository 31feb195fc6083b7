import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { describe, expect, test } from 'vitest'
import type { NodeJob, ReaderReport } from './workers/node.js'

const WRITES = 1_000
const redis = await useRedis()
const worker = fileURLToPath(new URL('./workers/node.ts', import.meta.url))
const tsconfig = fileURLToPath(new URL('./workers/tsconfig.json', import.meta.url))

interface Node {
  readonly child: ChildProcess
  readonly messages: unknown[]
  readonly next: (match: (message: unknown) => boolean) => Promise<unknown>
  readonly exit: Promise<number | null>
}

function start(job: NodeJob): Node {
  const child = fork(worker, [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: 'inherit',
  })
  const messages: unknown[] = []
  const waiters: Array<{ match: (m: unknown) => boolean; resolve: (m: unknown) => void }> = []
  child.on('message', (message) => {
    messages.push(message)
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(message)
      }
    }
  })
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return {
    child,
    messages,
    exit,
    next: (match) => {
      const found = messages.find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve })
        exit.then((code) => reject(new Error(`worker exited with ${code}`)))
      })
    },
  }
}

const isReport = (message: unknown) =>
  typeof message === 'object' && message !== null && 'reads' in message

async function run(killSecondReader: boolean, shared = false) {
  const url = new URL(redis!.url)
  const base = {
    host: url.hostname,
    port: Number(url.port || 6379),
    prefix: `tiered-${randomUUID()}:`,
    channel: `tiered-${randomUUID()}`,
    writes: WRITES,
    shared,
  }
  const names = ['writer', 'reader-1', 'reader-2'].map((role) => `${role}-${randomUUID()}`)
  const writer = start({ ...base, role: 'writer', name: names[0]! })
  const readers = [1, 2].map((i) => start({ ...base, role: 'reader', name: names[i]! }))
  const all = [writer, ...readers]
  await Promise.all(all.map((node) => node.next((message) => message === 'ready')))
  for (const node of all) node.child.send('go')
  if (killSecondReader) {
    await writer.next((message) => (message as { half?: boolean }).half === true)
    const admin = new Redis(redis!.url)
    const list = (await admin.client('LIST')) as string
    const victims = list
      .split('\n')
      .filter((line) => line.includes(` name=${names[2]} `))
      .filter((line) => / sub=[1-9]| ssub=[1-9]/.test(line))
      .map((line) => /^id=(\d+)/.exec(line)![1]!)
    expect(victims).toHaveLength(1)
    await admin.client('KILL', 'ID', victims[0]!)
    await admin.quit()
  }
  const reports = (await Promise.all(readers.map((r) => r.next(isReport)))) as ReaderReport[]
  expect(await Promise.all(all.map((node) => node.exit))).toEqual([0, 0, 0])
  return reports
}

describe.skipIf(!redis)('TieredStore across 3 processes on Redis', () => {
  test(`${WRITES} writes while 2 readers read in a loop: no stale read after delivery`, async () => {
    const [one, two] = await run(false)
    for (const report of [one!, two!]) {
      expect(report.wentDown).toBe(false)
      expect(report.stale).toBe(0)
      expect(report.reads).toBeGreaterThanOrEqual(1)
    }
  }, 180_000)

  test(`${WRITES} writes, each instance's L2 and bus on one client (the message sent behind the write): no stale read after delivery`, async () => {
    const [one, two] = await run(false, true)
    for (const report of [one!, two!]) {
      expect(report.wentDown).toBe(false)
      expect(report.stale).toBe(0)
      expect(report.reads).toBeGreaterThanOrEqual(1)
    }
  }, 180_000)

  test('a reader’s bus connection is killed mid-run: it bypasses L1 while down, then recovers', async () => {
    const [steady, killed] = await run(true)
    expect(steady!.wentDown).toBe(false)
    expect(steady!.stale).toBe(0)
    expect(killed!.wentDown).toBe(true)
    // While down every read went to L2: none returned a value older than L2 held just before.
    expect(killed!.downStale).toBe(0)
    // Back up: L1 serves again.
    expect(killed!.hitsAfterUp).toBeGreaterThan(0)
  }, 180_000)
})
