// What the instruction counts share (`callgrind.ts` with `count.ts`, `redis-client-cost.ts`,
// `redis-server-cost.ts`, `pg-client-cost.ts`): the awaited harness of bench.ts, and one child
// process under callgrind.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Contender } from './contenders.js'

const run = promisify(execFile)
const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}`)
// Node's own randomness and background threads pinned, so two runs take the same path.
export const NODE_FLAGS = ['--single-threaded', '--predictable', '--hash-seed=1', '--random-seed=1']
export const ALGORITHMS = {
  fixed: 'fixed-window',
  sliding: 'sliding-window',
  bucket: 'token-bucket',
} as const

/** bench.ts's harness: 64 callers, each awaiting one consume after another, over 1,024 keys. */
export async function rounds(c: Contender, n: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      await c.consume(keys[((i % 1024) * 7919) % 1024] as string)
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
}

/** The instruction total of `node <script> <args>` under callgrind. */
export async function callgrindTotal(script: string, args: readonly string[]): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      ...NODE_FLAGS,
      '--import',
      'tsx',
      script,
      ...args,
    ],
    { maxBuffer: 1 << 24, env: process.env },
  )
  const match = /Collected : (\d+)/.exec(stderr)
  if (match === null) throw new Error(`no callgrind total for ${args[0]}:\n${stderr.slice(-2000)}`)
  return Number(match[1])
}
