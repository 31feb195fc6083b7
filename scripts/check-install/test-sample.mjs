// A README whose first sample is a test file (the conformance suite's): the reader brings the
// runner (vitest) and their own adapter (`../src/index.js`). The check installs vitest, puts a
// MemoryStore-based stand-in where the adapter would be, type-checks the sample, runs it with
// vitest (ES module), and checks that `require()` of each imported package gives the names the
// sample imports (CommonJS).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, tail } from './run.mjs'
import { compilerOptions, tscCommand, tscFails } from './typescript.mjs'

/** Packages a test-file sample may import that the reader already has (their test runner). */
export const RUNNER_PACKAGES = ['vitest']

/** The adapter stand-in, and the one relative import it can replace. */
const STAND_IN = {
  specifier: '../src/index.js',
  fixture: new URL('./fixtures/my-store.ts', import.meta.url).pathname,
  packages: ['@cellar/memory'],
}

/** True if the sample is a test file for the reader's runner. */
export function isTestSample(sample) {
  return sample.imports.some((name) => RUNNER_PACKAGES.includes(name))
}

/** Packages to pack for the stand-in. */
export const STAND_IN_PACKAGES = STAND_IN.packages

/** What a test-file sample needs installed besides the README's line (package specs). */
export function testSampleTooling(manifest, tarballs) {
  const vitest = `vitest@${manifest.devDependencies.vitest}`
  return [vitest, ...STAND_IN.packages.map((name) => tarballs.get(name) ?? name)]
}

/**
 * Type-checks and runs a test-file sample in `dir`. Resolves a list of problems (empty when it
 * passed) and adds its steps with `step(name, seconds, detail)`.
 */
export async function checkTestSample(dir, sample, step, toReadme, root) {
  const local = sample.imports.filter((name) => name.startsWith('.'))
  const unknown = local.filter((name) => name !== STAND_IN.specifier)
  if (unknown.length > 0) {
    return [`the sample imports local files the check cannot stand in for: ${unknown.join(', ')}`]
  }
  mkdirSync(join(dir, 'src'), { recursive: true })
  mkdirSync(join(dir, 'test'), { recursive: true })
  copyFileSync(STAND_IN.fixture, join(dir, 'src/index.ts'))
  step('adapter stand-in', 0, `${STAND_IN.specifier} is a MemoryStore (fixtures/my-store.ts)`)
  writeFileSync(join(dir, 'test/sample.test.ts'), `${sample.lines.join('\n')}\n`)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: { ...compilerOptions(root), noEmit: true },
        files: ['test/sample.test.ts', 'src/index.ts'],
      },
      null,
      2,
    )}\n`,
  )
  const tsc = await run(...tscCommand(root), { cwd: dir })
  step('tsc (test file)', tsc.seconds)
  if (tscFails(tsc, step)) {
    return [`the sample does not type-check:\n${tail(toReadme(tsc.output))}`]
  }

  const vitest = await run(
    join(dir, 'node_modules/.bin/vitest'),
    ['run', '--reporter=dot', 'test/sample.test.ts'],
    { cwd: dir, timeout: 300_000, env: { NO_COLOR: '1', CI: process.env.CI ?? '' } },
  )
  const summary = vitest.output.split('\n').find((line) => /^\s*Tests\s/.test(line))
  step('vitest run (ESM)', vitest.seconds, summary?.trim() ?? '')
  if (vitest.code !== 0) {
    return [`the sample's tests fail under vitest:\n${tail(toReadme(vitest.output), 40)}`]
  }

  const problems = []
  for (const [specifier, names] of Object.entries(sample.names)) {
    if (specifier.startsWith('.') || RUNNER_PACKAGES.includes(specifier)) continue
    const probe = `const m = require(${JSON.stringify(specifier)}); const missing = ${JSON.stringify(names)}.filter((n) => m[n] === undefined); if (missing.length) { console.error('missing: ' + missing.join(', ')); process.exit(1) }`
    const cjs = await run('node', ['-e', probe], { cwd: dir })
    step(`require('${specifier}') (CJS)`, cjs.seconds)
    if (cjs.code !== 0) problems.push(`require('${specifier}') fails:\n${tail(cjs.output)}`)
  }
  return problems
}
