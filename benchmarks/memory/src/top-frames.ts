// Summarises a .cpuprofile: the functions with the most self time.
// Usage: tsx src/top-frames.ts <file.cpuprofile> [count]
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

const [file, count = '15'] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: top-frames <file.cpuprofile> [count]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }
const self = new Map<string, number>()
let total = 0
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0
  total += hits
  const { functionName, url, lineNumber } = node.callFrame
  const where =
    url === ''
      ? ''
      : ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|benchmarks)\//, '$1/')}:${lineNumber + 1}`
  const label = `${functionName || '(anonymous)'}${where}`
  self.set(label, (self.get(label) ?? 0) + hits)
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(count))
for (const [label, hits] of rows)
  console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${label}`)
