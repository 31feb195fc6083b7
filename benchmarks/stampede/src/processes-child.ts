// A forked child of the 4-process variant: 100 concurrent callers of `remember` with a lock,
// polling only or woken through a RedisBus. Reports its loader calls and when its last caller
// was served (hrtime is the machine's monotonic clock, comparable across processes).
import { RedisBus } from '@cellar/redis'
import { LOADER_MS, sleep } from './common.js'

export type Mode = 'poll-5' | 'poll-25' | 'bus' | 'before-poll-25'
export interface ChildReport {
  readonly loads: number
  readonly doneAt: string
}

const [url, prefix, mode] = process.argv.slice(2) as [string, string, Mode]
const bus = mode === 'bus' ? new RedisBus({ connection: url }) : undefined
const lock = {
  ttl: '5s',
  ...(mode === 'poll-5' && { retryInterval: 5 }),
  ...(bus && { bus, channel: `${prefix}remember` }),
}
// The `before-…` modes load another build (`BENCH_BEFORE`: the root of a built checkout).
const root = mode.startsWith('before-') ? `${process.env.BENCH_BEFORE}/packages` : undefined
const { createCache } = (await import(
  root === undefined ? '@cellar/cache' : `${root}/cache/dist/index.js`
)) as typeof import('@cellar/cache')
const { RedisStore } = (await import(
  root === undefined ? '@cellar/redis' : `${root}/redis/dist/index.js`
)) as typeof import('@cellar/redis')
const cache = createCache({
  default: 'r',
  stores: { r: new RedisStore({ connection: url, prefix }) },
})
await cache.get('warm-up')
// A first locked remember on another key: scripts loaded and the bus subscribed before the race.
await cache.remember('warm-up-lock', '1m', async () => 'x', { lock })
process.on('message', async (message) => {
  const key = String(message)
  let loads = 0
  await Promise.all(
    Array.from({ length: 100 }, () =>
      cache.remember(
        key,
        '1m',
        async () => {
          loads++
          await sleep(LOADER_MS)
          return 'value'
        },
        { lock },
      ),
    ),
  )
  const report: ChildReport = { loads, doneAt: String(process.hrtime.bigint()) }
  process.send!(report)
})
process.once('disconnect', async () => {
  await cache.close()
  await bus?.close()
})
process.send!('ready')
