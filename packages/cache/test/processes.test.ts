import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useMemcached, usePostgres, useRedis } from '@cellar/test-servers'
import { afterAll, describe, expect, test } from 'vitest'
import type { RememberJob } from './workers/remember.js'

const PROCESSES = 4
const CALLERS = 100
const worker = fileURLToPath(new URL('./workers/remember.ts', import.meta.url))
// Workers load sibling packages from source, as vitest does, through this tsconfig's paths.
const tsconfig = fileURLToPath(new URL('./workers/tsconfig.json', import.meta.url))
const directory = mkdtempSync(join(tmpdir(), 'cellar-stampede-'))

const redis = await useRedis()
const memcached = await useMemcached()
const pg = await usePostgres()
afterAll(async () => {
  await pg?.dispose()
  rmSync(directory, { recursive: true, force: true })
})

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  /** The distinct values its callers got; rejects if it exits before reporting. */
  readonly values: Promise<string[]>
  readonly exit: Promise<number | null>
}

function start(job: RememberJob): Worker {
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
  const values = new Promise<string[]>((resolve, reject) => {
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null) {
        resolve((message as { values: string[] }).values)
      }
    })
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)))
  })
  values.catch(() => {})
  return { child, ready, values, exit }
}

const loads = (log: string) =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('load '))
    .map((line) => Number(line.slice(5)))

async function launch(job: Omit<RememberJob, 'log' | 'key' | 'prefix'>) {
  const log = join(directory, `${randomUUID()}.log`)
  writeFileSync(log, '')
  const full = { ...job, log, key: 'hot', prefix: `s${randomUUID().slice(0, 8)}` }
  const workers = Array.from({ length: PROCESSES }, () => start(full))
  await Promise.all(workers.map((w) => w.ready))
  for (const w of workers) w.child.send('go')
  return { log, workers }
}

const targets: Array<{ name: string; kind: RememberJob['kind']; connection: unknown }> = []
if (redis) targets.push({ name: 'Redis', kind: 'redis', connection: redis.url })
if (memcached) targets.push({ name: 'memcached', kind: 'memcached', connection: memcached.servers })
if (pg) targets.push({ name: 'PostgreSQL', kind: 'postgres', connection: pg.connection })

describe.each(targets)('remember({ lock }) across processes on $name', ({ kind, connection }) => {
  test(`${PROCESSES} processes × ${CALLERS} callers: the loader runs exactly once in total`, async () => {
    const { log, workers } = await launch({
      kind,
      connection,
      callers: CALLERS,
      loadMs: 300,
      lockTtl: 5_000,
    })
    const seen = await Promise.all(workers.map((w) => w.values))
    expect(await Promise.all(workers.map((w) => w.exit))).toEqual(Array(PROCESSES).fill(0))
    const loaders = loads(log)
    expect(loaders).toHaveLength(1)
    // Every caller of every process got the one loaded value.
    for (const values of seen) expect(values).toEqual([`value of ${loaders[0]}`])
  }, 120_000)

  test('the leader is killed mid-load: one other process produces the value for all', async () => {
    const { log, workers } = await launch({
      kind,
      connection,
      callers: CALLERS,
      loadMs: 200,
      lockTtl: 1_000,
      leaderLoadMs: 600_000,
    })
    while (loads(log).length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    const leader = loads(log)[0]!
    const victim = workers.find((w) => w.child.pid === leader)!
    victim.child.kill('SIGKILL')
    const survivors = workers.filter((w) => w !== victim)
    const seen = await Promise.all(survivors.map((w) => w.values))
    expect(await victim.exit).toBeNull()
    expect(await Promise.all(survivors.map((w) => w.exit))).toEqual(Array(PROCESSES - 1).fill(0))
    const loaders = loads(log)
    expect(loaders).toHaveLength(2)
    const producer = loaders[1]!
    expect(producer).not.toBe(leader)
    for (const values of seen) expect(values).toEqual([`value of ${producer}`])
  }, 120_000)
})
