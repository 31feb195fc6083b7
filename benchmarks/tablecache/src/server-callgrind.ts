// The callgrind plumbing of the redis-*callgrind.ts scripts: a private redis-server under
// `valgrind --tool=callgrind`, the total of a dump, and a server's instructions per call.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { freePort, pingRedis } from '@cellar/test-servers'

const run = promisify(execFile)

/** The total of the newest callgrind dump in `dir` (its `totals:` or `summary:` line). */
export function lastTotal(dir: string): number {
  const dumps = readdirSync(dir)
    .filter((f) => /\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  const text = readFileSync(join(dir, dumps.at(-1) as string), 'utf8')
  const match = /^(?:totals|summary): (\d+)/m.exec(text)
  if (match === null) throw new Error(`no total in ${dumps.at(-1)}`)
  return Number(match[1])
}

/** Zeroes the counters of callgrind process `pid`, runs `work`, dumps them into the out dir. */
export async function counted(pid: string, work: () => Promise<void>): Promise<void> {
  await run('callgrind_control', ['-z', pid])
  await work()
  await run('callgrind_control', ['-d', pid])
}

/** A private redis-server traced by callgrind (no persistence, `hz 1`). */
export interface TracedRedis {
  readonly url: string
  /**
   * redis-server instructions per call of `read` over `reads` calls, less an idle span of the
   * same length (the server's own timers).
   */
  perCall(reads: number, read: (i: number) => Promise<unknown>): Promise<number>
  stop(): Promise<void>
}

export async function startTracedRedis(name: string): Promise<TracedRedis> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`))
  const port = await freePort()
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${dir}/cg.out`,
      'redis-server',
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--hz', '1', '--dir', dir],
    ],
    { stdio: 'ignore' },
  )
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; !(await pingRedis(url)); i++) {
    if (i > 150) throw new Error('redis-server under callgrind did not start')
    await sleep(200)
  }
  const pid = String(server.pid)
  return {
    url,
    async perCall(reads, read) {
      const began = Date.now()
      await run('callgrind_control', ['-z', pid])
      for (let i = 0; i < reads; i++) await read(i)
      const spent = Date.now() - began
      await run('callgrind_control', ['-d', pid])
      const busy = lastTotal(dir)
      await counted(pid, () => sleep(spent))
      return (busy - lastTotal(dir)) / reads
    },
    async stop() {
      server.kill('SIGTERM')
      await new Promise((resolve) => server.once('exit', resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
