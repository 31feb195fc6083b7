// Forked by stampede-bus.test.ts: a facade over Redis whose `remember` lock waiters are woken by
// a RedisBus. Waits for the parent's "go", then makes `callers` concurrent `remember` calls for
// one key. Each loader start is appended to `log`; the first loader of the run (the leader) may
// be told to fail. The outcome of every caller goes back to the parent.
import { appendFileSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisBus, RedisStore } from '@cellar/redis'
import { createCache } from '../../src/index.js'

export interface BusJob {
  readonly url: string
  readonly prefix: string
  readonly channel: string
  readonly key: string
  readonly log: string
  readonly callers: number
  readonly loadMs: number
  /** The first loader of the run throws (after `loadMs`) instead of returning a value. */
  readonly leaderFails: boolean
}

/** What a worker reports: the distinct values its callers got, and how many rejected. */
export interface BusReport {
  readonly values: string[]
  readonly rejected: number
}

const job = JSON.parse(process.argv[2] as string) as BusJob
const bus = new RedisBus({ connection: job.url })
const cache = createCache({
  default: 'main',
  stores: { main: new RedisStore({ connection: job.url, prefix: job.prefix }) },
})
// Polling alone would leave a waiter asleep for ten minutes: only the bus can wake it in time.
const lock = { ttl: 5_000, wait: '10m', retryInterval: '10m', bus, channel: job.channel }
// Connected, scripts loaded and subscribed before the race.
await cache.remember('warm-up', '1m', () => 'ready', { lock })

const loader = async () => {
  const leader = readFileSync(job.log, 'utf8') === ''
  appendFileSync(job.log, `load ${process.pid}\n`)
  await sleep(job.loadMs)
  if (leader && job.leaderFails) throw new Error('the leader fails')
  return `value of ${process.pid}`
}

await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send!('ready')
})
const outcomes = await Promise.allSettled(
  Array.from({ length: job.callers }, () => cache.remember(job.key, '10m', loader, { lock })),
)
const report: BusReport = {
  values: [
    ...new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value as string] : []))),
  ],
  rejected: outcomes.filter((o) => o.status === 'rejected').length,
}
process.send!(report)
await cache.close()
await bus.close()
process.disconnect()
