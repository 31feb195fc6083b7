// Why the cache table has no index on expires_at: the cost of a TTL write with and without one
// (raw drivers, the store's upsert, tables side by side, interleaved rounds), and what a sweep
// by primary-key batches costs instead.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { usePostgres } from '@cellar/test-servers'
import pg from 'pg'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const SLICE_MS = 100
const ROWS = 100_000
const VALUE = Buffer.alloc(200, 0x61)
const TTL_MS = 3_600_000

interface SqliteDb {
  exec(sql: string): void
  pragma(sql: string): unknown
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number }
    get(...params: unknown[]): unknown
  }
  transaction(fn: () => void): () => void
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => SqliteDb

const TABLE = (name: string) =>
  `CREATE TABLE ${name} ("key" TEXT NOT NULL PRIMARY KEY, "value" BLOB NOT NULL, "expires_at" INTEGER) WITHOUT ROWID`
const VARIANTS: Record<string, (name: string) => string[]> = {
  'no index (contract 2)': (name) => [TABLE(name)],
  'partial index on expires_at (before)': (name) => [
    TABLE(name),
    `CREATE INDEX ${name}_x ON ${name} ("expires_at") WHERE "expires_at" IS NOT NULL`,
  ],
  'index on expires_at / 65536 (a coarse bucket)': (name) => [
    TABLE(name),
    `CREATE INDEX ${name}_x ON ${name} ("expires_at" / 65536) WHERE "expires_at" IS NOT NULL`,
  ],
}
const upsert = (name: string, p: (n: number) => string) =>
  `INSERT INTO ${name} ("key", "value", "expires_at") VALUES (${p(1)}, ${p(2)}, ${p(3)}) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "expires_at" = excluded."expires_at"`

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

async function interleave(jobs: Record<string, (i: number) => unknown>) {
  const names = Object.keys(jobs)
  const rates: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as string
      const job = jobs[name] as (i: number) => unknown
      const began = performance.now()
      let n = 0
      while (performance.now() - began < SLICE_MS) await job(n++)
      rates[name]?.push((n / (performance.now() - began)) * 1000)
    }
  }
  const base = rates[names[0] as string] as number[]
  for (const name of names) {
    const mine = rates[name] as number[]
    const ratio = median(mine.map((rate, i) => rate / (base[i] as number)))
    console.log(
      `| ${name} | ${Math.round(median(mine)).toLocaleString('en-US')} | ${ratio.toFixed(2)} |`,
    )
  }
}

console.log(
  `load at start ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
const dir = mkdtempSync(join(tmpdir(), 'cellar-index-choice-'))
const db = new Database(join(dir, 'choice.db'))
db.pragma('journal_mode = WAL')
const sqliteJobs: Record<string, (i: number) => unknown> = {}
for (const [label, ddl] of Object.entries(VARIANTS)) {
  const name = `t${Object.keys(sqliteJobs).length}`
  for (const sql of ddl(name)) db.exec(sql)
  const statement = db.prepare(upsert(name, () => '?'))
  sqliteJobs[label] = (i) => statement.run(`bench:k${i % 256}`, VALUE, Date.now() + TTL_MS)
}
console.log(
  '\nSQLite (better-sqlite3, WAL), upsert with a 1 h TTL\n\n| table | ops/s | × no index |\n| --- | ---: | ---: |',
)
await interleave(sqliteJobs)

// The sweep without an index: one pass over ROWS rows, 10% expired, in batches of 1,000 keys.
db.exec(TABLE('sweep'))
const insert = db.prepare('INSERT INTO sweep VALUES (?, ?, ?)')
const now = Date.now()
db.transaction(() => {
  for (let i = 0; i < ROWS; i++)
    insert.run(`app:user:${i}`, VALUE, i % 10 === 0 ? now - 1 : now + TTL_MS)
})()
const edge = db.prepare('SELECT "key" FROM sweep WHERE "key" > ? ORDER BY "key" LIMIT 1 OFFSET 999')
const range = db.prepare('DELETE FROM sweep WHERE "key" > ? AND "key" <= ? AND "expires_at" < ?')
const tail = db.prepare('DELETE FROM sweep WHERE "key" > ? AND "expires_at" < ?')
let cursor = ''
let removed = 0
let batches = 0
let worst = 0
const began = performance.now()
for (;;) {
  const start = performance.now()
  const row = edge.get(cursor) as { key: string } | undefined
  batches++
  if (row === undefined) {
    removed += tail.run(cursor, now).changes
    break
  }
  removed += range.run(cursor, row.key, now).changes
  cursor = row.key
  worst = Math.max(worst, performance.now() - start)
}
console.log(
  `\nSQLite sweep of ${ROWS.toLocaleString('en-US')} rows (10% expired): ${batches} batches, ${removed.toLocaleString('en-US')} removed, ${(performance.now() - began).toFixed(0)} ms in all, longest batch ${worst.toFixed(1)} ms`,
)
db.close()
rmSync(dir, { recursive: true, force: true })

const database = process.env.BENCH_SKIP_PG ? undefined : await usePostgres()
if (database !== undefined) {
  const client = new pg.Client(database.connection)
  await client.connect()
  // Without waiting for the WAL flush of each commit, which on a shared disk swamps what an
  // index costs; the store itself runs with the server's setting.
  await client.query('SET synchronous_commit TO off')
  const pgJobs: Record<string, (i: number) => unknown> = {}
  for (const [label, ddl] of Object.entries(VARIANTS).slice(0, 2)) {
    const name = `t${Object.keys(pgJobs).length}`
    await client.query(
      `CREATE TABLE ${name} ("key" text COLLATE "C" PRIMARY KEY, "value" bytea NOT NULL, "expires_at" bigint)`,
    )
    for (const sql of ddl(name).slice(1)) await client.query(sql)
    const text = upsert(name, (n) => `$${n}`)
    pgJobs[label] = (i) =>
      client.query({ name, text, values: [`bench:k${i % 256}`, VALUE, Date.now() + TTL_MS] })
  }
  console.log(
    '\nPostgreSQL (pg, named statements, synchronous_commit off), upsert with a 1 h TTL\n\n| table | ops/s | × no index |\n| --- | ---: | ---: |',
  )
  await interleave(pgJobs)
  await client.end()
  await database.dispose()
}
console.log(
  `\nload at end ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
