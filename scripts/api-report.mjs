// Checks (or with --update, rewrites) the public API report of the package in the current
// directory: etc/<package>.api.md, made by API Extractor from the built dist/index.d.ts.
// Run through each package's `check-api` / `api:update` scripts, after `build`.
//
// A check fails when the built declarations no longer match the committed report (the diff is
// printed), when the report is missing, or on any API Extractor error (an internal type
// reachable from the public API, a declaration it cannot analyse).
//
// Settings live in api-extractor.base.json (JSON without comments, so the reasons are here):
// only dist/index.d.ts is analysed, never src/ or test/, which keeps a run to a few seconds;
// library checking is off because typecheck, publint and attw already vouch for the
// declarations; release tags are not used (everything exported is public); TSDoc wording is
// reviewed with the code, not in the report; `ae-forgotten-export` is an error, because a type
// reachable from the API but not exported by name is an internal type in a published .d.ts;
// nothing is written into dist/ (no rollup, no tsdoc-metadata.json).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor'

const update = process.argv.includes('--update')
const cwd = process.cwd()
const started = performance.now()

if (!existsSync(join(cwd, 'dist/index.d.ts'))) {
  console.error(`[cellar:api] ${cwd}: no dist/index.d.ts to check; build first (pnpm build)`)
  process.exit(1)
}

// The report is made from the ES module declarations; the CommonJS ones must say the same.
const esm = join(cwd, 'dist/index.d.ts')
const cjs = join(cwd, 'dist/index.d.cts')
const cjsDiffers = existsSync(cjs) && readFileSync(cjs, 'utf8') !== readFileSync(esm, 'utf8')

const config = ExtractorConfig.loadFileAndPrepare(join(cwd, 'api-extractor.json'))
const problems = []
const result = Extractor.invoke(config, {
  localBuild: update,
  messageCallback(message) {
    // API Extractor's own console lines are replaced by one line per problem below.
    message.handled = true
    // Said once below with the diff and the command that fixes it.
    if (message.messageId === 'console-api-report-not-copied') return
    // "report created/copied" notices of an update are news, not problems.
    if (update && String(message.messageId).startsWith('console-api-report-')) {
      console.log(`[cellar:api] ${message.text}`)
      return
    }
    if (message.logLevel === 'error' || message.logLevel === 'warning') {
      const where = message.sourceFilePath
        ? `${relative(cwd, message.sourceFilePath)}:${message.sourceFileLine}:${message.sourceFileColumn} `
        : ''
      problems.push(`${message.logLevel}: ${where}(${message.messageId}) ${message.text}`)
    }
  },
})

const name = config.packageJson?.name ?? relative(cwd, config.projectFolder)
const [report] = config.reportConfigs
const committed = join(config.reportFolder, report.fileName)
const fresh = join(config.reportTempFolder, report.fileName)
const seconds = ((performance.now() - started) / 1000).toFixed(1)

if (cjsDiffers) {
  problems.push('error: dist/index.d.cts differs from dist/index.d.ts, which the report covers')
}
for (const line of problems) console.error(`[cellar:api] ${name}: ${line}`)

if (!update && !existsSync(committed)) {
  console.error(
    `[cellar:api] ${name}: no ${relative(cwd, committed)} yet; run \`pnpm api:update\` and commit it`,
  )
} else if (!update && result.apiReportChanged) {
  console.error(
    `[cellar:api] ${name}: the public API differs from ${relative(cwd, committed)}` +
      ' (review the diff; if the change is intended, run `pnpm api:update` and commit the report):',
  )
  if (existsSync(committed)) {
    const diff = spawnSync('diff', ['-u', committed, fresh], { encoding: 'utf8' })
    console.error(diff.stdout)
  }
}

if (result.succeeded && !cjsDiffers) {
  console.log(`[cellar:api] ${name}: ${update ? 'report written' : 'report matches'} (${seconds}s)`)
} else {
  const why = [
    problems.length > 0 ? `${problems.length} problem(s) listed above` : '',
    !update && result.apiReportChanged ? 'report differs or is missing' : '',
  ].filter(Boolean)
  console.error(`[cellar:api] ${name}: FAILED: ${why.join(', ') || 'see above'} (${seconds}s)`)
  process.exitCode = 1
}
