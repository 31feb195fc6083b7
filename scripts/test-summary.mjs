// Adds up the JSON reports every package's `vitest run` wrote during this run and prints one
// closing line, so a reader (or CI) sees the whole count without scrolling through turbo's log.
// `--reset` (run before the tests) removes the reports of an earlier run.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const reset = process.argv.includes('--reset')
const totals = { passed: 0, failed: 0, skipped: 0 }
const rows = []

for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const file = join(root, group, dir, '.vitest/results.json')
    if (!existsSync(file)) continue
    if (reset) {
      rmSync(file)
      continue
    }
    const report = JSON.parse(readFileSync(file, 'utf8'))
    const skipped = report.numPendingTests + report.numTodoTests
    totals.passed += report.numPassedTests
    totals.failed += report.numFailedTests
    totals.skipped += skipped
    rows.push(
      `  ${group}/${dir}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
    )
  }
}

if (reset) process.exit(0)
console.log(rows.join('\n'))
console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = rows.length === 0 || totals.failed > 0 ? 1 : 0
