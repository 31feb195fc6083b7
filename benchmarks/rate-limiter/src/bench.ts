import { loadavg } from 'node:os'
import { KnexStore } from '@cellar/knex'
import { MemcachedStore } from '@cellar/memcached'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { findMemcached, findPostgres, findRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import knexFactory from 'knex'
import memjs from 'memjs'
import pg from 'pg'
import {
  asyncMap,
  type Contender,
  cellar,
  cellarSync,
  flexibleMemory,
  flexibleRedis,
  type LimiterClass,
  rawLua,
  rawMap,
  resultMap,
} from './contenders.js'
import { flexibleMemcache, flexiblePostgres, rawIncrement, rawUpsert } from './contenders-stores.js'

const { Pool: pgPool } = pg
const CONCURRENCY = 64
const KEYS = 1024
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROWS = (process.env.BENCH_ROWS ?? 'memory,redis,postgres,memcached').split(',')
// Ops per round, per row: the network rows are slower, so their rounds are shorter.
const OPS: Record<string, number> = {
  memory: Number(process.env.BENCH_OPS ?? 20_000) * 5,
  redis: Number(process.env.BENCH_OPS ?? 20_000),
  postgres: Number(process.env.BENCH_OPS_SQL ?? 3_000),
  memcached: Number(process.env.BENCH_OPS ?? 20_000) / 2,
}

// BENCH_BEFORE=<dir>: a directory whose node_modules/@cellar/{core,memory,redis,rate-limiter}
// hold another build (package.json + dist); its memory and Redis rows run beside this build's,
// in the same rounds, labelled "before".
const beforeDir = process.env.BENCH_BEFORE
const fromBefore = async (name: string) =>
  import(`${beforeDir}/node_modules/@cellar/${name}/dist/index.js`)
const before =
  beforeDir === undefined
    ? undefined
    : {
        label: 'before',
        RateLimiter: (await fromBefore('rate-limiter')).RateLimiter as LimiterClass,
        MemoryStore: (await fromBefore('memory')).MemoryStore as typeof MemoryStore,
        RedisStore: (await fromBefore('redis')).RedisStore as typeof RedisStore,
      }

const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)

// Each round is timed by the wall clock and by this process's CPU time. In process (memory),
// every contender's whole work is CPU time here, which other jobs on the machine inflate far
// less than the wall clock: those rows also report ops per CPU-second. Over the network the
// server's share counts too, so those rows report the wall clock only.
interface Rate {
  readonly wall: number
  readonly cpu: number
}

/** Ops per second of `ops` consumes by 64 concurrent callers over 1,024 keys. */
async function round(contender: Contender, ops: number, server?: ServerCpu): Promise<Rate> {
  let next = 0
  const worker = async () => {
    while (next < ops) {
      const i = next++
      await contender.consume(keys[((i % KEYS) * 7919) % KEYS] as string)
    }
  }
  const serverBefore = server === undefined ? 0 : await server()
  const start = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const used = process.cpuUsage(cpu)
  const wall = ops / ((performance.now() - start) / 1000)
  const serverSeconds = server === undefined ? 0 : (await server()) - serverBefore
  return { wall, cpu: ops / ((used.user + used.system) / 1e6 + serverSeconds) }
}

/** CPU seconds a private server has used so far (Redis INFO cpu, memcached stats rusage). */
type ServerCpu = () => Promise<number>

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

// Contenders take turns, round after round, in a rotating order, so a change of load on the
// machine falls on all of them alike; the median of each contender's rounds is reported, as a
// ratio to the baseline (and, by CPU time, to `also`, a second reference, when given).
async function compare(
  title: string,
  ops: number,
  baseline: Contender,
  others: Contender[],
  options: { cpu?: boolean; also?: Contender; server?: ServerCpu } = {},
): Promise<void> {
  const all = [baseline, ...others]
  console.log(`\n### ${title} (${ops} ops × ${ROUNDS} rounds; load at start: ${load()})\n`)
  for (const contender of all) await round(contender, ops, options.server) // warm-up: scripts cached, JIT warm
  const rates = new Map<string, Rate[]>(all.map((c) => [c.name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < all.length; i++) {
      const contender = all[(i + r) % all.length] as Contender
      rates.get(contender.name)?.push(await round(contender, ops, options.server))
    }
  }
  const rate = (c: Contender, by: keyof Rate) =>
    median((rates.get(c.name) as Rate[]).map((one) => one[by]))
  const { also, cpu = false } = options
  let head = '| contender | ops/s (median) | × baseline |'
  const whose = options.server === undefined ? '' : ', client + server'
  if (cpu) head += ` ops per CPU-second${whose} (median) | × baseline, CPU |`
  if (cpu && also !== undefined) head += ` × ${also.name}, CPU |`
  console.log(head)
  console.log(`|${' --- |'.repeat(head.split('|').length - 2)}`)
  for (const contender of all) {
    const wall = rate(contender, 'wall')
    let line = `| ${contender.name} | ${Math.round(wall)} | ${(wall / rate(baseline, 'wall')).toFixed(2)} |`
    if (cpu) {
      const time = rate(contender, 'cpu')
      line += ` ${Math.round(time)} | ${(time / rate(baseline, 'cpu')).toFixed(2)} |`
      if (also !== undefined) line += ` ${(time / rate(also, 'cpu')).toFixed(2)} |`
    }
    console.log(line)
  }
}

// Synchronous callers (no await at all): a plain loop, timed by CPU, interleaved the same way.
function compareSync(title: string, ops: number, baseline: Contender, others: Contender[]): void {
  const all = [baseline, ...others]
  const loop = (contender: Contender) => {
    const cpu = process.cpuUsage()
    for (let i = 0; i < ops; i++) contender.consume(keys[((i % KEYS) * 7919) % KEYS] as string)
    const used = process.cpuUsage(cpu)
    return ops / ((used.user + used.system) / 1e6)
  }
  for (const contender of all) loop(contender)
  const rates = new Map<string, number[]>(all.map((c) => [c.name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < all.length; i++) {
      const contender = all[(i + r) % all.length] as Contender
      rates.get(contender.name)?.push(loop(contender))
    }
  }
  const base = median(rates.get(baseline.name) as number[])
  console.log(`\n### ${title} (${ops} calls × ${ROUNDS} rounds; load at start: ${load()})\n`)
  console.log('| contender | calls per CPU-second (median) | × baseline |')
  console.log('| --- | ---: | ---: |')
  for (const contender of all) {
    const rate = median(rates.get(contender.name) as number[])
    console.log(`| ${contender.name} | ${Math.round(rate)} | ${(rate / base).toFixed(2)} |`)
  }
}

console.log(`Node ${process.version}, c=${CONCURRENCY}, ${KEYS} keys, rows: ${ROWS.join(', ')}`)
if (beforeDir !== undefined) console.log(`before: ${beforeDir}`)
console.log(`load average at start: ${load()}`)

if (ROWS.includes('memory')) {
  const memory = new MemoryStore()
  const old = before === undefined ? undefined : new before.MemoryStore()
  const floor = asyncMap()
  const algorithms = [
    ['fixed-window', 'fixed'],
    ['sliding-window', 'sliding'],
    ['token-bucket', 'bucket'],
  ] as const
  const rows = [floor, resultMap()]
  for (const [algorithm, name] of algorithms) {
    rows.push(cellar(memory, algorithm, name))
    if (old !== undefined) rows.push(cellar(old, algorithm, name, [], before))
  }
  rows.push(cellarSync(memory, 'fixed-window', 'fixed-sync'), flexibleMemory())
  await compare('memory', OPS.memory as number, rawMap(), rows, { cpu: true, also: floor })
  const syncRows = []
  for (const [algorithm, name] of algorithms) {
    syncRows.push(cellarSync(memory, algorithm, `${name}-sync`))
    if (old !== undefined) syncRows.push(cellarSync(old, algorithm, `${name}-sync`, before))
  }
  compareSync('memory, synchronous callers', OPS.memory as number, rawMap(), syncRows)
  await memory.close()
  await old?.close()
}

if (ROWS.includes('redis')) {
  const found = await findRedis()
  if (found === undefined) console.log('\nRedis not found: skipped')
  else {
    const client = new Redis(found.url)
    const store = new RedisStore({ connection: found.url, prefix: 'bench:cellar:' })
    const old =
      before === undefined
        ? undefined
        : new before.RedisStore({ connection: found.url, prefix: 'bench:before:' })
    const cpuOf = (info: string, field: string) =>
      Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
    // Only a server spawned for this run is ours alone; a shared one's CPU isn't attributable.
    const server =
      found.source === 'spawned'
        ? async () => {
            const info = await client.info('cpu')
            return cpuOf(info, 'used_cpu_user') + cpuOf(info, 'used_cpu_sys')
          }
        : undefined
    const rows: Contender[] = []
    for (const [algorithm, name] of [
      ['fixed-window', 'fixed'],
      ['sliding-window', 'sliding'],
      ['token-bucket', 'bucket'],
    ] as const) {
      rows.push(cellar(store, algorithm, name))
      if (old !== undefined) rows.push(cellar(old, algorithm, name, [], before))
    }
    rows.push(flexibleRedis(client))
    await compare('Redis', OPS.redis as number, rawLua(client), rows, {
      cpu: server !== undefined,
      server,
    })
    await store.close()
    await old?.close()
    client.disconnect()
    if (found.source === 'spawned') await found.stop()
  }
}

if (ROWS.includes('postgres')) {
  const database = await findPostgres()
  if (database === undefined) console.log('\nPostgreSQL not found: skipped')
  else {
    const knex = knexFactory({
      client: 'pg',
      connection: database.connection as never,
      pool: { max: 10 },
    })
    const pool = new pgPool({ ...database.connection, max: 10 })
    // Dropping the run's database ends the pool's sockets from the server side (57P01); an idle
    // client's error with no listener would crash the run before the memcached row.
    pool.on('error', () => {})
    const store = new KnexStore({
      knex,
      prefix: 'bench:',
      pruneInterval: false,
      preparedStatements: true,
    })
    const contenders = [
      cellar(store, 'fixed-window', 'bench-fixed'),
      cellar(store, 'sliding-window', 'bench-sliding'),
    ]
    if (store.capabilities.rateLimits === true) {
      contenders.push(cellar(store, 'token-bucket', 'bench-bucket'))
    }
    contenders.push(await flexiblePostgres(knex))
    await compare('PostgreSQL', OPS.postgres as number, await rawUpsert(pool), contenders)
    await store.close()
    await knex.destroy()
    await pool.end()
    await database.dispose()
  }
}

if (ROWS.includes('memcached')) {
  const server = await findMemcached()
  if (server === undefined) console.log('\nmemcached not found: skipped')
  else {
    // A loaded machine can hold a reply past memjs's 0.5 s default: 10 s for every client.
    const client = memjs.Client.create(server.servers, { timeout: 10, logger: { log: () => {} } })
    const store = new MemcachedStore({ servers: server.servers, prefix: 'bench:', timeout: 10_000 })
    const flexible = flexibleMemcache(server.servers)
    const evicting: Array<'evicting'> = ['evicting']
    const contenders = [
      cellar(store, 'fixed-window', 'fixed', evicting),
      cellar(store, 'sliding-window', 'sliding', evicting),
    ]
    if (store.capabilities.rateLimits === true) {
      contenders.push(cellar(store, 'token-bucket', 'bucket', evicting))
    }
    contenders.push(flexible.contender)
    // memcached's own rusage, when the server was spawned for this run (ours alone).
    const rusage = (): Promise<number> =>
      new Promise((resolve, reject) => {
        client.stats((error, _server, stats) => {
          if (error) reject(error)
          else resolve(Number(stats?.rusage_user) + Number(stats?.rusage_system))
        })
      })
    const serverCpu = server.source === 'spawned' ? rusage : undefined
    await compare('memcached', OPS.memcached as number, rawIncrement(client), contenders, {
      cpu: serverCpu !== undefined,
      server: serverCpu,
    })
    await store.close()
    flexible.close()
    client.close()
    if (server.source === 'spawned') await server.stop()
  }
}
console.log(`\nload average at end: ${load()}`)
