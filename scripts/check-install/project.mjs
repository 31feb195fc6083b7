// One package's check, as a new user would meet it: a scratch npm project (no workspace), the
// README's install commands with every @cellar/* name swapped for its packed tarball, then the
// README's first sample type-checked and run as ES module and as CommonJS.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { buildAddons, deniedScripts } from './native.mjs'
import { argName, cjsSource, esmSource, firstSample, installArgs, installLines } from './readme.mjs'
import { run, tail } from './run.mjs'
import { pointAt, serversFor } from './services.mjs'
import {
  checkTestSample,
  isTestSample,
  RUNNER_PACKAGES,
  STAND_IN_PACKAGES,
  testSampleTooling,
} from './test-sample.mjs'
import { compilerOptions, tscCommand, tscFails } from './typescript.mjs'

const tsconfig = (root) => ({
  compilerOptions: {
    ...compilerOptions(root),
    outDir: 'out',
    sourceMap: true,
  },
  files: ['sample.mts', 'sample.cts'],
})

const RUN_TIMEOUT_MS = 30_000

/**
 * Checks one package. `pkg` has name, dir, readme (path); `context` has root, tmp, tarballs
 * (name → path) and npmEnv; `alternative` (from `alternativeInstalls`) replaces the README's
 * install lines with another way it documents. Resolves
 * { status: 'pass' | 'fail' | 'skipped-run', steps, problems }.
 */
export async function checkPackage(pkg, context, alternative) {
  const steps = []
  const problems = []
  const readmeName = relative(context.root, pkg.readme)
  const at = (line) => `${readmeName}:${line}`
  const step = (name, seconds, detail = '') => steps.push({ name, seconds, detail })
  const fail = (text, output) => {
    problems.push(output ? `${text}\n${tail(output)}` : text)
    return { status: 'fail', steps, problems }
  }

  const manifest = JSON.parse(readFileSync(join(context.root, 'package.json'), 'utf8'))
  if (!existsSync(pkg.readme)) return fail(`${readmeName}: missing (a published package needs one)`)
  const text = readFileSync(pkg.readme, 'utf8')
  const lines = alternative?.lines ?? installLines(text)
  const sample = firstSample(text)
  if (lines.length === 0) return fail(`${readmeName}: no \`npm install\` line in an sh block`)
  if (!sample) return fail(`${readmeName}: no \`\`\`ts sample`)

  const label = alternative === undefined ? '' : `alt${alternative.line}-`
  const dir = mkdtempSync(join(context.tmp, `${pkg.name.replace(/^@cellar\//, '')}-${label}`))
  // A @cellar/* package the install lines don't name but one of them depends on comes from its
  // tarball, as the registry would serve it (an override on a named one would conflict with it).
  const named = new Set([
    ...lines.flatMap(({ command }) => installArgs(command).map(argName).filter(Boolean)),
    // A test-file sample's tooling installs the stand-in adapter's packages by tarball too.
    ...(isTestSample(sample) ? STAND_IN_PACKAGES : []),
  ])
  const overrides = Object.fromEntries(
    [...context.tarballs]
      .filter(([name]) => !named.has(name))
      .map(([name, tarball]) => [name, `file:${tarball}`]),
  )
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'scratch', private: true, type: 'module', allowScripts: deniedScripts(), overrides }, null, 2)}\n`,
  )

  for (const { line, command } of lines) {
    const args = []
    for (const arg of installArgs(command)) {
      const name = argName(arg)
      if (name?.startsWith('@cellar/')) {
        const tarball = context.tarballs.get(name)
        if (!tarball)
          return fail(
            `${at(line)}: \`${command}\` names ${name}, which has no tarball (not published, or pnpm pack failed)`,
          )
        args.push(tarball)
      } else {
        args.push(arg)
      }
    }
    const result = await run('npm', ['install', ...args], { cwd: dir, env: context.npmEnv })
    step(`npm install (README line ${line})`, result.seconds)
    if (result.code !== 0) {
      return fail(
        `${at(line)}: \`${command}\` fails in a fresh npm project (exit ${result.code})`,
        result.output,
      )
    }
    // npm only warns when it overrides a peer range, and the next install in the project fails.
    if (/ERESOLVE/.test(result.output)) {
      return fail(
        `${at(line)}: \`${command}\` installs a version outside a peer range (npm warns ERESOLVE; later installs fail)`,
        result.output,
      )
    }
  }

  // Which versions the lines gave the registry packages they name (ioredis 6, or 5 on `ioredis@5`).
  const versions = [...named]
    .filter((name) => !name.startsWith('@cellar/'))
    .map((name) => {
      const manifest = join(dir, 'node_modules', name, 'package.json')
      return existsSync(manifest)
        ? `${name} ${JSON.parse(readFileSync(manifest, 'utf8')).version}`
        : undefined
    })
    .filter(Boolean)
  if (versions.length > 0) step('installed', 0, versions.join(', '))

  for (const note of await buildAddons(dir)) {
    if (!note.ok) return fail(`${readmeName}: ${note.text}`, note.output)
    step('native addon', 0, note.text)
  }

  const testSample = isTestSample(sample)
  const missing = sample.imports.filter(
    (name) =>
      !name.startsWith('.') &&
      !(testSample && RUNNER_PACKAGES.includes(name)) &&
      !existsSync(join(dir, 'node_modules', name, 'package.json')),
  )
  if (missing.length > 0) {
    return fail(
      `${at(lines[0].line)}: the sample (${at(sample.start)}) imports ${missing.join(', ')}, which the install line does not install`,
    )
  }

  // A second install is where a peer range that doesn't fit what npm picked fails (ERESOLVE).
  const extra = testSample ? ['--save-dev', ...testSampleTooling(manifest, context.tarballs)] : []
  const tooling = await run('npm', ['install', ...extra], { cwd: dir, env: context.npmEnv })
  step(
    testSample ? 'npm install vitest + the adapter stand-in' : 'npm install (again)',
    tooling.seconds,
  )
  if (tooling.code !== 0) {
    return fail(
      `${at(lines[0].line)}: a later \`npm install\` in the project fails after the README's line (exit ${tooling.code})`,
      tooling.output,
    )
  }

  const tree = await run('npm', ['ls', '--all'], { cwd: dir, env: context.npmEnv })
  step('npm ls --all', tree.seconds)
  if (tree.code !== 0) {
    const bad = tree.output.split('\n').filter((l) => /invalid|missing|ERR|UNMET/.test(l))
    return fail(
      `${at(lines[0].line)}: the installed tree is invalid after the README's install line (npm ls --all):\n${bad.map((l) => `    ${l}`).join('\n')}`,
    )
  }

  const mapped = (output) => toReadme(output, sample, at)
  if (testSample) {
    problems.push(...(await checkTestSample(dir, sample, step, mapped, context.root)))
    if (problems.length > 0) problems[0] = `${readmeName}: ${problems[0]}`
    return { status: problems.length > 0 ? 'fail' : 'pass', steps, problems }
  }

  const servers = await serversFor(sample.imports)
  const pointed = pointAt(sample.lines.join('\n'), servers)
  const runnable = { ...sample, lines: pointed.text.split('\n') }
  for (const note of pointed.notes) step('server', 0, note)
  writeFileSync(join(dir, 'sample.mts'), esmSource(runnable))
  writeFileSync(join(dir, 'sample.cts'), cjsSource(runnable))
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig(context.root), null, 2)}\n`)

  const tsc = await run(...tscCommand(context.root), { cwd: dir })
  step('tsc (ESM + CJS)', tsc.seconds)
  if (tscFails(tsc, step)) {
    return fail(
      `${readmeName}: the sample does not type-check:\n${tail(toReadme(tsc.output, sample, at))}`,
    )
  }

  const absent = servers.filter((entry) => !entry.server)
  if (absent.length > 0) {
    const why = absent.map(
      (entry) => `${entry.service.name}: ${entry.error?.message ?? 'not found'}`,
    )
    if (absent.some((entry) => entry.error)) return fail(`${readmeName}: ${why.join('; ')}`)
    problems.push(`SKIPPED running the sample: ${why.join('; ')} (set CI=true to make this fail)`)
    return { status: 'skipped-run', steps, problems }
  }

  for (const [kind, file] of [
    ['ESM', 'out/sample.mjs'],
    ['CJS', 'out/sample.cjs'],
  ]) {
    const result = await run('node', ['--enable-source-maps', file], {
      cwd: dir,
      timeout: RUN_TIMEOUT_MS,
    })
    step(`node ${file}`, result.seconds)
    if (result.timedOut) {
      return fail(
        `${at(sample.start)}: the sample run as ${kind} did not exit within ${RUN_TIMEOUT_MS / 1000}s (something it opened stays open)`,
        toReadme(result.output, sample, at),
      )
    }
    if (result.code !== 0) {
      return fail(
        `${at(sample.start)}: the sample run as ${kind} exits with ${result.code}`,
        toReadme(result.output, sample, at),
      )
    }
  }
  return { status: 'pass', steps, problems, dir }
}

const KINDS = { mts: 'ESM', cts: 'CJS', 'test.ts': 'test file' }

/** Rewrites sample file positions (tsc and stack traces) into README positions. */
function toReadme(output, sample, at) {
  return output.replace(
    /(?:[^\s(]*\/)?(?:out\/|test\/)?sample\.(mts|cts|test\.ts)[(:](\d+)[,:](\d+)\)?/g,
    (_, ext, line, column) => `${at(sample.start + Number(line) - 1)}:${column} (${KINDS[ext]})`,
  )
}
