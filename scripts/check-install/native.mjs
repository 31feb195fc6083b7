// Native addons that a README's install line pulls in (better-sqlite3 for the knex sample).
// Nothing can be downloaded prebuilt here, so npm compiles them from source: about a minute per
// install. The check lets npm install everything else as usual, denies only these packages'
// install scripts (package.json `allowScripts`, npm 11), then runs the same install script
// itself once per version / Node ABI / platform and reuses the compiled file afterwards.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { run } from './run.mjs'

/** Each addon and the one file its install script produces. */
const ADDONS = {
  'better-sqlite3': 'build/Release/better_sqlite3.node',
}

const cacheRoot = join(homedir(), '.cache', 'cellar-check-install')

/** The `allowScripts` entries of a scratch project: the addons' scripts are run by us. */
export function deniedScripts() {
  return Object.fromEntries(Object.keys(ADDONS).map((name) => [name, false]))
}

/**
 * Makes every addon installed in `dir` usable: copies a cached build, or runs the package's own
 * install script (as npm would have) and caches what it built. Resolves one note per addon.
 */
export async function buildAddons(dir) {
  const notes = []
  for (const [name, file] of Object.entries(ADDONS)) {
    const home = join(dir, 'node_modules', name)
    if (!existsSync(join(home, 'package.json'))) continue
    const { version } = JSON.parse(readFileSync(join(home, 'package.json'), 'utf8'))
    const key = `${name}@${version}-${process.platform}-${process.arch}-abi${process.versions.modules}`
    const cached = join(cacheRoot, key, file)
    mkdirSync(dirname(join(home, file)), { recursive: true })
    if (existsSync(cached)) {
      copyFileSync(cached, join(home, file))
      notes.push({ ok: true, text: `${name} ${version}: compiled addon reused from ${cached}` })
      continue
    }
    const built = await run('npm', ['run', 'install'], { cwd: home, timeout: 600_000 })
    if (built.code !== 0 || !existsSync(join(home, file))) {
      notes.push({
        ok: false,
        text: `${name} ${version}: its install script failed`,
        output: built.output,
      })
      continue
    }
    mkdirSync(dirname(cached), { recursive: true })
    copyFileSync(join(home, file), cached)
    notes.push({
      ok: true,
      text: `${name} ${version}: compiled in ${built.seconds.toFixed(0)}s, kept in ${cached}`,
    })
  }
  return notes
}
