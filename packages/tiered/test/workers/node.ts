// Forked by processes.test.ts: one service instance over a shared Redis. The writer sets "k" to
// 1..writes, one acknowledged write at a time; a reader reads "k" in a loop and counts stale
// reads: a value older than the number of invalidation messages its bus had delivered when the
// read started (the writer's messages arrive in order, one per write).
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { Redis } from 'ioredis'
import { TieredStore } from '../../src/index.js'

export interface NodeJob {
  readonly role: 'writer' | 'reader'
  readonly host: string
  readonly port: number
  readonly prefix: string
  readonly channel: string
  readonly name: string
  readonly writes: number
  /** L2 and bus on one client: a write's message leaves behind it, unacknowledged. */
  readonly shared?: boolean
}

export interface ReaderReport {
  readonly reads: number
  /** Stale reads while this reader's bus had never been down. */
  readonly stale: number
  /** Reads made while the bus was down (L1 bypassed), and how many were older than L2. */
  readonly downReads: number
  readonly downStale: number
  /** L1 hits after the bus came back up (0 if it never went down). */
  readonly hitsAfterUp: number
  readonly wentDown: boolean
}

const job = JSON.parse(process.argv[2] as string) as NodeJob
const connection = { host: job.host, port: job.port, connectionName: job.name }
const client = job.shared === true ? new Redis(connection) : undefined
const bus = new RedisBus({ connection: client ?? connection })
const l2 = new RedisStore({
  connection: client ?? { host: job.host, port: job.port },
  prefix: job.prefix,
})
let l2Reads = 0
const counted = new Proxy(l2, {
  get(target, property) {
    const value = Reflect.get(target, property, target)
    if (typeof value !== 'function') return value
    if (property !== 'get') return value.bind(target)
    return (key: string) => {
      l2Reads++
      return target.get(key)
    }
  },
})
let delivered = 0
await bus.subscribe(job.channel, () => delivered++)
const store = new TieredStore({ l1: new MemoryStore(), l2: counted, bus, channel: job.channel })
await store.ready()
// "v<i>", not "<i>": plain decimal would be a counter, which L1 never keeps.
const decode = (value: Uint8Array | undefined) =>
  value === undefined ? 0 : Number(new TextDecoder().decode(value).slice(1))

await new Promise<void>((resolve) => {
  process.once('message', () => resolve())
  process.send!('ready')
})

if (job.role === 'writer') {
  for (let i = 1; i <= job.writes; i++) {
    await store.set('k', new TextEncoder().encode(`v${i}`), '10m')
    if (i === job.writes / 2) process.send!({ half: true })
  }
  process.send!({ done: true })
} else {
  let reads = 0
  let stale = 0
  let downReads = 0
  let downStale = 0
  let hitsAfterUp = 0
  let wentDown = false
  bus.onStatus((status) => {
    if (status === 'down') wentDown = true
  })
  for (;;) {
    const seen = delivered
    const upBefore = bus.connected
    const readsBefore = l2Reads
    const actual = upBefore ? 0 : decode(await counted.get('k'))
    const value = decode(await store.get('k'))
    reads++
    if (!wentDown && value < seen) stale++
    if (!upBefore) {
      downReads++
      if (value < actual) downStale++
    }
    if (wentDown && upBefore && bus.connected && l2Reads === readsBefore) hitsAfterUp++
    if (value === job.writes) {
      // The last value is in; a reader whose bus went down must also have come back.
      if (!wentDown || (bus.connected && hitsAfterUp > 0)) break
    }
    if (reads % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  const report: ReaderReport = { reads, stale, downReads, downStale, hitsAfterUp, wentDown }
  process.send!(report)
}
await store.close()
await bus.close()
await client?.quit()
process.disconnect()
