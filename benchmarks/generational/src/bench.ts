// CachedRepository vs the SQL it replaces, paired call by call in one process (the machine may
// be loaded: compare the paired ratios, not absolute numbers).
// Usage: [BENCH_ITERATIONS=1000] [BENCH_BEFORE=/path/to/dist/index.js] pnpm bench
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { StoreTraceContext } from '@cellar/core'
import { writeTags } from '@cellar/generational'
import { compare, contender, load, measure, table } from './paired.js'
import { CATEGORIES, ROWS } from './seed.js'
import { loadBefore, memorySqlite, type Pair, redisPostgres } from './setup.js'

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000)
const WRITES = Math.max(50, Math.ceil(ITERATIONS / 4))
const LIST_TARGET = 3
const ENTITY_TARGET = 1.5

// The same 20 list pages (5 pages × 4 categories) and 200 ids again and again: cached
// contenders measure hits (every page and id is read once before measuring).
const page = (i: number) => ({ page: 1 + (i % 5), limit: 20 })
const filters = (i: number) => ({ category_id: 1 + (i % 4) })
const id = (i: number) => 1 + ((i * 7919) % 200)

const out: string[] = []
const summary: string[] = []
const print = (text: string) => {
  console.log(text)
  out.push(text)
}

async function suite(pair: Pair): Promise<void> {
  const { label, sql, cached, before, resolver } = pair
  const misses = { now: 0, before: 0 }
  cached.on((event) => {
    if (event.type === 'miss') misses.now++
  })
  before?.on((event) => {
    if (event.type === 'miss') misses.before++
  })
  for (let i = 0; i < 200; i++) {
    await cached.list(page(i), filters(i))
    await cached.getById(id(i))
    await before?.list(page(i), filters(i))
    await before?.getById(id(i))
  }
  misses.now = 0
  misses.before = 0

  const listSql = contender('SQL: list page (20 rows, join, count)', (i) =>
    sql.list(page(i), filters(i)),
  )
  const list = [
    listSql,
    contender('CachedRepository: list hit', (i) => cached.list(page(i), filters(i))),
  ]
  if (before)
    list.push(
      contender('CachedRepository before: list hit', (i) => before.list(page(i), filters(i))),
    )
  let start = load()
  await measure(list, ITERATIONS)
  print(table(`${label}: list page`, start, listSql, list, LIST_TARGET))

  const byIdSql = contender('SQL: entity by id (join)', (i) => sql.getById(id(i)))
  const byId = [byIdSql, contender('CachedRepository: entity hit', (i) => cached.getById(id(i)))]
  if (before)
    byId.push(contender('CachedRepository before: entity hit', (i) => before.getById(id(i))))
  start = load()
  await measure(byId, ITERATIONS)
  print(table(`${label}: entity by id`, start, byIdSql, byId, ENTITY_TARGET))
  print(`\nmisses while measuring: ${misses.now}${before ? ` (before: ${misses.before})` : ''}`)

  const update = contender('SQL: update one row', (i) => sql.update(id(i), { stock: i % 97 }))
  const writes = [
    update,
    contender('CachedRepository: update + bump (3 tags)', (i) =>
      cached.update(id(i), { stock: i % 97 }),
    ),
    contender('bump alone (3 tags)', (i) => resolver.bump(writeTags('product', [id(i)]))),
  ]
  start = load()
  await measure(writes, WRITES, 10)
  print(table(`${label}: a write's invalidation`, start, update, writes))

  const reads: string[] = []
  for (const tags of [1, 10, 100, 1000]) {
    let count = 0
    const onStart = (message: unknown) => {
      if ((message as StoreTraceContext).operation === 'getMany') count++
    }
    subscribe('tracing:cellar:store:start', onStart)
    await resolver.fingerprint(Array.from({ length: tags }, (_, i) => `t${i}`))
    unsubscribe('tracing:cellar:store:start', onStart)
    reads.push(`${tags} tags → ${count} getMany`)
  }
  print(`\nfingerprint reads: ${reads.join(', ')}`)

  const k = compare(listSql, list[1]!, LIST_TARGET)
  const e = compare(byIdSql, byId[1]!, ENTITY_TARGET)
  const verdict = (median: number, target: number) => (median >= target ? 'met' : 'NOT met')
  summary.push(
    `${label}: list hit ${k.median.toFixed(2)}× its SQL (p25–p75 ${k.p25.toFixed(2)}–${k.p75.toFixed(2)}, ≥${LIST_TARGET}× in ${(k.atTarget * 100).toFixed(0)}% of iterations): target ${verdict(k.median, LIST_TARGET)}`,
    `${label}: entity hit ${e.median.toFixed(2)}× its SQL (p25–p75 ${e.p25.toFixed(2)}–${e.p75.toFixed(2)}): 1.5× target ${verdict(e.median, ENTITY_TARGET)}`,
  )
  if (before) {
    const b = compare(list[2]!, list[1]!, 1)
    const be = compare(byId[2]!, byId[1]!, 1)
    summary.push(
      `${label}: this build vs before, paired: list hit ${b.median.toFixed(2)}× (p25–p75 ${b.p25.toFixed(2)}–${b.p75.toFixed(2)}), entity hit ${be.median.toFixed(2)}×`,
    )
  }
}

const before = await loadBefore()
print(
  `node ${process.version}, ${ROWS} rows, ${CATEGORIES} categories, ${ITERATIONS} iterations (${WRITES} for writes)${before ? `, before = ${process.env.BENCH_BEFORE}` : ''}; load average at start ${load()}`,
)
const pg = await redisPostgres(before)
if (pg !== undefined) {
  await suite(pg)
  await pg.close()
} else {
  print('\nRedis or PostgreSQL missing: the Redis vs PostgreSQL pair is skipped')
}
const sqlite = await memorySqlite(before)
await suite(sqlite)
await sqlite.close()
print(`\nload average at end ${load()}\n`)
for (const line of summary) print(`- ${line}`)
