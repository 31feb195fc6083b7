// Instructions per consume of memory contenders, under callgrind (load-independent): each
// contender runs twice in its own process (`count.ts`), with the same warm-up and two measured
// lengths (N and 3N); the difference of the two totals over 2N is its count.
//   tsx src/callgrind.ts fixed sliding before:fixed ...   (CALLGRIND_WARM, CALLGRIND_OPS)
import { execFile } from 'node:child_process'
import { loadavg } from 'node:os'
import { promisify } from 'node:util'

const run = promisify(execFile)
const WARM = Number(process.env.CALLGRIND_WARM ?? 100_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 100_000)
const here = new URL('.', import.meta.url).pathname

// Node's own randomness and background threads pinned, so two runs take the same path.
const NODE_FLAGS = ['--single-threaded', '--predictable', '--hash-seed=1', '--random-seed=1']

async function total(spec: string, ops: number): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      ...NODE_FLAGS,
      '--import',
      'tsx',
      `${here}count.ts`,
      spec,
      String(WARM),
      String(ops),
    ],
    { maxBuffer: 1 << 24, env: process.env },
  )
  const match = /Collected : (\d+)/.exec(stderr)
  if (match === null) throw new Error(`no callgrind total for ${spec}:\n${stderr.slice(-2000)}`)
  return Number(match[1])
}

const specs = process.argv.slice(2)
console.log(`warm-up ${WARM}, measured ${OPS} and ${3 * OPS}; load ${loadavg()[0]?.toFixed(2)}`)
console.log('| contender | instructions per op |\n| --- | ---: |')
for (const spec of specs) {
  const [short, long] = await Promise.all([total(spec, OPS), total(spec, 3 * OPS)])
  console.log(`| ${spec} | ${Math.round((long - short) / (2 * OPS))} |`)
}
