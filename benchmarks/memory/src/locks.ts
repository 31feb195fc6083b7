// Memory locks: acquire + release of one uncontended lock through the public API, against a
// hand-written floor with the same promise shape, and (BENCH_BEFORE=<checkout>) against an older
// build in the same process. Interleaved rounds, fastest round, process CPU time, as bench.ts.
import { randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '@cellar/memory'
import { measure } from 'mitata'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const CPU_TIME_NS = Number(process.env.BENCH_MS ?? 150) * 1e6
const cpuNow = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

interface Locking {
  lock(
    name: string,
    options: { ttl: number },
  ): {
    acquire(): Promise<number | false>
    release(): Promise<void>
  }
  close(): Promise<void>
}

const NAMES = Array.from({ length: 64 }, (_, i) => `job-${i}`)

function cellar(store: Locking): () => Promise<void> {
  let next = 0
  return async () => {
    const lock = store.lock(NAMES[next++ & 63]!, { ttl: 30_000 })
    if ((await lock.acquire()) === false) throw new Error('an uncontended lock was refused')
    await lock.release()
  }
}

/**
 * The floor: a fresh UUID owner, a holder with an expiry and a fencing counter in two Maps,
 * compare-and-delete on release, each step an awaited async function (the protocol's shape).
 */
function floor(): () => Promise<void> {
  const holders = new Map<string, { owner: string; expiresAt: number }>()
  const fences = new Map<string, number>()
  const acquire = async (name: string, owner: string): Promise<number | false> => {
    const now = performance.now()
    const held = holders.get(name)
    if (held !== undefined && held.expiresAt > now) return false
    holders.set(name, { owner, expiresAt: now + 30_000 })
    const token = (fences.get(name) ?? 0) + 1
    fences.set(name, token)
    return token
  }
  const release = async (name: string, owner: string): Promise<boolean> => {
    const held = holders.get(name)
    if (held === undefined || held.owner !== owner || held.expiresAt <= performance.now())
      return false
    holders.delete(name)
    return true
  }
  let next = 0
  return async () => {
    const name = NAMES[next++ & 63]!
    const owner = randomUUID()
    if ((await acquire(name, owner)) === false) throw new Error('floor lock refused')
    if (!(await release(name, owner))) throw new Error('floor release refused')
  }
}

// BENCH_BUILD=<checkout root>: the `cellar MemoryStore` row runs that build instead of this one
// (one build per process: lock rows of two builds share core's Lock and its JIT feedback).
const Store =
  process.env.BENCH_BUILD === undefined
    ? MemoryStore
    : (
        (await import(join(process.env.BENCH_BUILD, 'packages/memory/dist/index.js'))) as {
          MemoryStore: new () => Locking
        }
      ).MemoryStore
const jobs: Array<{ name: string; fn: () => Promise<void>; best: number }> = [
  { name: 'floor: two Maps, async acquire/release', fn: floor(), best: Infinity },
  { name: 'cellar MemoryStore', fn: cellar(new Store()), best: Infinity },
]
const stores: Locking[] = []
if (process.env.BENCH_BEFORE !== undefined) {
  const dist = join(process.env.BENCH_BEFORE, 'packages/memory/dist/index.js')
  const before = (await import(dist)) as { MemoryStore: new () => Locking }
  const store = new before.MemoryStore()
  stores.push(store)
  jobs.push({ name: 'cellar MemoryStore (before)', fn: cellar(store), best: Infinity })
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')
const loadBefore = load()
for (const job of jobs) for (let i = 0; i < 20_000; i++) await job.fn()
let seed = 11
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
for (let round = 0; round < ROUNDS; round++) {
  const order = [...jobs]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  for (const job of order) {
    const { avg } = await measure(job.fn, { min_cpu_time: CPU_TIME_NS, now: cpuNow })
    job.best = Math.min(job.best, avg)
  }
}
const mine = jobs.find((job) => job.name === 'cellar MemoryStore')!
console.log(
  `\nMemory lock acquire + release, c=1 (fastest of ${ROUNDS} interleaved rounds, CPU time; load ${loadBefore} before, ${load()} after)\n`,
)
console.log('| contender | ns per acquire + release | ops/s | cellar ÷ it (speed) |')
console.log('| --- | ---: | ---: | ---: |')
for (const job of jobs) {
  const versus = job === mine ? '' : `${(job.best / mine.best).toFixed(2)}×`
  console.log(
    `| ${job.name} | ${job.best.toFixed(0)} | ${Math.round(1e9 / job.best).toLocaleString('en-US')} | ${versus} |`,
  )
}
for (const store of stores) await store.close()
