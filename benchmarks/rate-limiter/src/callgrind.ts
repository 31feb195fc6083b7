// Instructions per consume of memory contenders, under callgrind (load-independent): each
// contender runs twice in its own process (`count.ts`), with the same warm-up and two measured
// lengths (N and 3N); the difference of the two totals over 2N is its count.
//   tsx src/callgrind.ts fixed sliding before:fixed ...   (CALLGRIND_WARM, CALLGRIND_OPS)
import { loadavg } from 'node:os'
import { callgrindTotal } from './cost-harness.js'

const WARM = Number(process.env.CALLGRIND_WARM ?? 100_000)
const OPS = Number(process.env.CALLGRIND_OPS ?? 100_000)
const here = new URL('.', import.meta.url).pathname

const total = (spec: string, ops: number) =>
  callgrindTotal(`${here}count.ts`, [spec, String(WARM), String(ops)])

const specs = process.argv.slice(2)
console.log(`warm-up ${WARM}, measured ${OPS} and ${3 * OPS}; load ${loadavg()[0]?.toFixed(2)}`)
console.log('| contender | instructions per op |\n| --- | ---: |')
for (const spec of specs) {
  const [short, long] = await Promise.all([total(spec, OPS), total(spec, 3 * OPS)])
  console.log(`| ${spec} | ${Math.round((long - short) / (2 * OPS))} |`)
}
