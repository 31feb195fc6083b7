// Every README install line works in a fresh project: packs each published package, then for
// each one installs the README's own `npm install` line into a scratch npm project (tarballs in
// place of @cellar/* names, everything else from the registry), type-checks the README's first
// sample and runs it as ES module and as CommonJS; each other way the README documents (a later
// sh block starting with `# or …`) gets a scratch project of its own. Needs built packages.
//
//   node --import tsx scripts/check-install.mjs [core memory …] [--jobs 2] [--keep]
//
// One shared npm cache (npm's own), two packages at a time, timings per step.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkPackage } from './check-install/project.mjs'
import { alternativeInstalls, argName, installArgs, installLines } from './check-install/readme.mjs'
import { run, tail } from './check-install/run.mjs'
import { stopServers } from './check-install/services.mjs'
import { STAND_IN_PACKAGES } from './check-install/test-sample.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { jobs: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false } },
})
const root = new URL('..', import.meta.url).pathname
const started = performance.now()
const say = (line) => console.log(`[check-install] ${line}`)

/** Published packages: packages/* without `private: true`, optionally narrowed by name. */
function publishedPackages() {
  const found = []
  for (const entry of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', entry)
    const manifest = join(dir, 'package.json')
    if (!existsSync(manifest)) continue
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'))
    if (pkg.private) continue
    found.push({ name: pkg.name, short: entry, dir, readme: join(dir, 'README.md') })
  }
  return found
}

async function pool(items, jobs, work) {
  const results = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker))
  return results
}

const all = publishedPackages()
const chosen = positionals.length > 0 ? all.filter((p) => positionals.includes(p.short)) : all
const tmp = mkdtempSync(join(tmpdir(), 'cellar-check-install-'))
const tarballDir = join(tmp, 'tarballs')
const npmEnv = {
  // Quiet and quick, without changing what gets resolved.
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'warn',
}

// Pack what the chosen READMEs install (a store's line names core too), each package once.
const wanted = new Set(chosen.map((pkg) => pkg.name))
for (const pkg of chosen) {
  if (!existsSync(pkg.readme)) continue
  const text = readFileSync(pkg.readme, 'utf8')
  const commands = [installLines(text), ...alternativeInstalls(text).map((alt) => alt.lines)]
  for (const { command } of commands.flat()) {
    for (const arg of installArgs(command)) {
      if (argName(arg)?.startsWith('@cellar/')) wanted.add(argName(arg))
    }
  }
}
// The conformance sample's stand-in adapter is built on MemoryStore.
if (wanted.has('@cellar/conformance')) {
  for (const name of STAND_IN_PACKAGES) wanted.add(name)
}
// And what those depend on (the cache facade needs the rate limiter): npm would fetch these
// from the registry; here each scratch project gets them from tarballs through `overrides`.
for (const name of wanted) {
  const pkg = all.find((candidate) => candidate.name === name)
  if (pkg === undefined) continue
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'))
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith('@cellar/')) wanted.add(dependency) // visited later in this loop
  }
}
const toPack = all.filter((pkg) => wanted.has(pkg.name))
say(`packing ${toPack.map((pkg) => pkg.short).join(', ')} into ${tarballDir}`)
const tarballs = new Map()
const packed = await pool(toPack, 2, async (pkg) => {
  if (!existsSync(join(pkg.dir, 'dist'))) return `${pkg.name}: no dist/ (run pnpm build first)`
  const result = await run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: pkg.dir })
  const file = result.output
    .trim()
    .split('\n')
    .findLast((line) => line.endsWith('.tgz'))
  if (result.code !== 0 || !file) return `${pkg.name}: pnpm pack failed\n${tail(result.output)}`
  tarballs.set(pkg.name, file.startsWith('/') ? file : join(tarballDir, file))
  return undefined
})
// A package that could not be packed fails every check whose install line names it.
for (const failure of packed.filter(Boolean)) say(`cannot pack ${failure}`)
say(`packed in ${((performance.now() - started) / 1000).toFixed(1)}s`)

// Each README's own install lines, then every other way it documents (`# or …` blocks), each
// in a scratch project of its own.
const jobs = chosen.flatMap((pkg) => [
  { pkg, title: pkg.name },
  ...(existsSync(pkg.readme) ? alternativeInstalls(readFileSync(pkg.readme, 'utf8')) : []).map(
    (alternative) => ({
      pkg,
      alternative,
      title: `${pkg.name} [${alternative.note}, README line ${alternative.line}]`,
    }),
  ),
])
const results = await pool(jobs, Number(values.jobs), async ({ pkg, alternative, title }) => {
  const began = performance.now()
  let result
  try {
    result = await checkPackage(pkg, { root, tmp, tarballs, npmEnv }, alternative)
  } catch (error) {
    result = { status: 'fail', steps: [], problems: [`crashed: ${error?.stack ?? error}`] }
  }
  const seconds = (performance.now() - began) / 1000
  const lines = [`${result.status.toUpperCase()} ${title} (${seconds.toFixed(1)}s)`]
  for (const s of result.steps) {
    const time = s.seconds > 0 ? ` ${s.seconds.toFixed(1)}s` : ''
    lines.push(`  ${s.name}${time}${s.detail ? `: ${s.detail}` : ''}`)
  }
  for (const problem of result.problems) lines.push(`  ${problem.replaceAll('\n', '\n  ')}`)
  console.log(lines.map((line) => `[check-install] ${line}`).join('\n'))
  return { pkg, ...result, seconds }
})
await stopServers()

const failed = results.filter((r) => r.status === 'fail')
const skipped = results.filter((r) => r.status === 'skipped-run')
const total = ((performance.now() - started) / 1000).toFixed(1)
say(
  `${results.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} ran no sample (no server) — ${total}s, ${values.jobs} at a time, one shared npm cache (npm's own)`,
)
if (values.keep) say(`scratch projects kept in ${tmp}`)
else rmSync(tmp, { recursive: true, force: true })
process.exitCode = failed.length > 0 ? 1 : 0
