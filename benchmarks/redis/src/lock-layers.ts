import { loadavg } from 'node:os'
import { Lock, type LockBackend, randomOwner } from '@cellar/core'
import { RedisStore } from '@cellar/redis'
import { startRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis6'
// The store's backend and connection from source, to call the backend without core's `Lock`.
import { openConnection } from '../../../packages/redis/src/connection.js'
import { RedisLockBackend } from '../../../packages/redis/src/redis-lock.js'
import { ACQUIRE } from '../../../packages/redis/src/scripts.js'
import { cellarLock, LOCK_TTL_MS, type LockContender, rawFencedLock, rawLock } from './locks.js'

// Where a lock acquire + release loses time against the raw pair, one layer at a time: the
// store; core's `Lock` over a backend that only sends the commands; the store's backend called
// directly; the bare commands with core's owner tokens. Paired as in `paired.ts`, plus the client
// CPU of each call. BENCH_LAYERS (a regex) picks the layer rows; run them one at a time to see
// each with its code cold (no other row runs it), all at once to see them warm each other.
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3_000)
const PICK = new RegExp(process.env.BENCH_LAYERS ?? '.')
// BENCH_WARMUP=N untimed iterations first (default 200); see paired.ts for why 6,000 is what
// every row's code needs to be optimized.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200)

const server = process.env.REDIS_URL === undefined ? await startRedis() : undefined
const url = server?.url ?? process.env.REDIS_URL!

/** EVALSHA of the store's acquire script and `HDEL`, on `client`, under `root`. */
function commands(client: Redis, root: string): LockBackend {
  return {
    acquire: (name, owner, ttlMs) => {
      const key = `${root}${name}}`
      return client
        .evalsha(ACQUIRE.sha, 2, key, `${key}:fence`, owner, String(ttlMs))
        .then((reply) => (reply === null ? false : Number(reply)))
    },
    release: (name, owner) => client.hdel(`${root}${name}}`, owner).then((n) => n === 1),
    forceRelease: () => Promise.reject(new Error('not used')),
    extend: () => Promise.reject(new Error('not used')),
    inspect: () => Promise.reject(new Error('not used')),
  }
}

function overBackend(name: string, backend: LockBackend, viaLock: boolean): LockContender {
  return {
    name,
    acquireRelease: async (lockName) => {
      if (viaLock) {
        const lock = new Lock(backend, lockName, { ttl: LOCK_TTL_MS })
        if ((await lock.acquire()) === false) throw new Error(`${name}: ${lockName} was held`)
        await lock.release()
        return
      }
      const owner = randomOwner()
      if ((await backend.acquire(lockName, owner, LOCK_TTL_MS)) === false) {
        throw new Error(`${name}: ${lockName} was held`)
      }
      await backend.release(lockName, owner)
    },
    close: async () => {},
  }
}

const clients = [new Redis(url), new Redis(url)]
await clients[0]!.script('LOAD', ACQUIRE.lua)
const connection = openConnection({ connection: url })
const layers = [
  cellarLock(
    'cellar',
    new RedisStore({ connection: url, prefix: 'bench:layers:', lockPrefix: 'bench-lock:' }),
  ),
  overBackend("core's Lock over the bare commands", commands(clients[0]!, 'bench-lock:{l:'), true),
  overBackend(
    "the store's backend, no Lock",
    new RedisLockBackend(connection, 'bench-lock:{b:', () => {}),
    false,
  ),
  overBackend(
    'bare commands, owner from randomOwner',
    commands(clients[1]!, 'bench-lock:{c:'),
    false,
  ),
]
const rows = [
  await rawLock(url),
  await rawFencedLock(url),
  ...layers.filter((l) => PICK.test(l.name)),
]
const times = rows.map((): number[] => [])
const cpu = rows.map((): number[] => [])

let seed = 7
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const loadBefore = loadavg()[0]!.toFixed(1)
for (let i = -WARMUP; i < ITERATIONS; i++) {
  const order = rows.map((_, k) => k)
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1))
    ;[order[k], order[j]] = [order[j]!, order[k]!]
  }
  for (const k of order) {
    const usage = process.cpuUsage()
    const started = performance.now()
    await rows[k]!.acquireRelease(`job-${i & 63}`)
    const took = performance.now() - started
    const used = process.cpuUsage(usage)
    if (i >= 0) {
      times[k]!.push(took)
      cpu[k]!.push(used.user + used.system)
    }
  }
}
console.log(`| row | median µs | × ${rows[0]!.name} | median client CPU µs |`)
console.log('| --- | ---: | ---: | ---: |')
rows.forEach((row, k) => {
  const ratio = median(times[k]!.map((t, i) => times[0]![i]! / t))
  console.log(
    `| ${row.name} | ${(median(times[k]!) * 1000).toFixed(0)} | ${ratio.toFixed(3)}× | ${median(cpu[k]!)} |`,
  )
})
console.log(
  `\nload average ${loadBefore} before, ${loadavg()[0]!.toFixed(1)} after; Node ${process.version}`,
)

for (const row of [...rows, ...layers]) await row.close()
for (const client of clients) await client.quit()
connection.client.disconnect()
clearInterval(connection.watchdog)
await server?.stop()
