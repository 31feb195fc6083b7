// A forked child of the 4-process variant: 100 concurrent callers of `remember` with a lock,
// polling only or woken through a RedisBus. Reports its loader calls and when its last caller
// was served (hrtime is the machine's monotonic clock, comparable across processes).
import { createCache } from '@cellar/cache'
import { RedisBus, RedisStore } from '@cellar/redis'
import { LOADER_MS, sleep } from './common.js'

export type Mode = 'poll-5' | 'poll-25' | 'bus'
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
