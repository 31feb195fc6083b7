// Instance B of the invalidation measurement, in its own process: a TieredStore whose L1 holds
// the key; on each message it notes when the key left its L1 (hrtime: the machine's monotonic
// clock, comparable across processes), reads the new value back into L1 and reports.
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'

export interface Probe {
  /** hrtime (ns, as a string) at which B's bus listener saw the key gone from its L1. */
  readonly missAt: string
  readonly missed: boolean
}

const [url, prefix, channel] = process.argv.slice(2) as [string, string, string]
const l1 = new MemoryStore()
const bus = new RedisBus({ connection: url })
const b = new TieredStore({ l1, l2: new RedisStore({ connection: url, prefix }), bus, channel })
await b.ready()

// Reads until the value is back in L1 (a read that raced the message does not fill it).
async function refill(): Promise<void> {
  while (l1.getSync('k') === undefined) await b.get('k')
}

// Subscribed after the store's own listener, so it runs right after the store dropped the key.
await bus.subscribe(channel, () => {
  const missAt = process.hrtime.bigint()
  const missed = l1.getSync('k') === undefined
  refill().then(() => {
    const probe: Probe = { missAt: String(missAt), missed }
    process.send!(probe)
  })
})
process.on('message', async (message) => {
  if (message === 'fill') {
    await refill()
    process.send!('filled')
  }
})
process.once('disconnect', async () => {
  await b.close()
  await bus.close()
})
process.send!('ready')
