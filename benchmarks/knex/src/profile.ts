// Where the time of a SQLite get-hit goes: runs get-hits under the V8 CPU profiler in child
// processes (one per path) and sums self time by where the code lives.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KnexStore } from '@cellar/knex'
import createKnex from 'knex'

const ITERATIONS = 200_000
const mode = process.argv[2]

if (mode !== undefined) {
  // Child: the measured loop.
  const dir = process.argv[3] as string
  const knex = createKnex({
    client: 'better-sqlite3',
    connection: { filename: join(dir, 'profile.db') },
    useNullAsDefault: true,
  })
  const store = new KnexStore({
    knex,
    pruneInterval: false,
    preparedStatements: mode === 'prepared',
  })
  await store.set('k', new Uint8Array(200))
  const sql =
    'SELECT "value" FROM "cellar_cache" WHERE "key" = ? AND ("expires_at" IS NULL OR "expires_at" >= ?)'
  for (let i = 0; i < ITERATIONS; i++) {
    if (mode === 'raw') await knex.raw(sql, ['k', Date.now()])
    else await store.get('k')
  }
  await store.close()
  await knex.destroy()
  process.exit(0)
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

function bucket(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  if (url.includes('/packages/knex/') || url.includes('/@cellar/')) return 'cellar (KnexStore)'
  if (url.includes('/node_modules/knex/')) return 'knex (Raw, Runner, Client, pool glue)'
  if (url.includes('/tarn/')) return 'tarn (knex pool)'
  if (url.includes('/better-sqlite3/')) return 'better-sqlite3 (prepare + step, JS and native)'
  if (url.includes('tsx') || url.includes('esbuild')) return 'startup (tsx, module loading)'
  if (url === '' && ['prepare', 'all', 'run', 'get'].includes(functionName)) {
    return 'better-sqlite3 (prepare + step, JS and native)'
  }
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(program)' || functionName === '(idle)') return 'V8 / idle'
  return 'node internals (promises, timers, other)'
}

const self = fileURLToPath(import.meta.url)
const out: string[] = []
for (const path of ['raw', 'store', 'prepared']) {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-profile-'))
  const started = performance.now()
  execFileSync(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', self, path, dir],
    {
      stdio: 'inherit',
    },
  )
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile')) as string
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const name = bucket(byId.get(id) as ProfileNode)
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const all = [...totals.values()].reduce((a, b) => a + b, 0)
  out.push(
    `\n${path} (${ITERATIONS} get-hits, ${Math.round(performance.now() - started)} ms wall incl. startup):`,
  )
  for (const [name, us] of [...totals].sort((a, b) => b[1] - a[1])) {
    out.push(`  ${((us / all) * 100).toFixed(1).padStart(5)}%  ${name}`)
  }
  rmSync(dir, { recursive: true, force: true })
}
console.log(out.join('\n'))
