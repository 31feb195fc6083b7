// Section 4: invalidation latency across processes: a write on instance A (this process) until
// instance B (a forked process) has dropped the key from its L1. Two A's take turns, write by
// write: one with its L2 and bus on separate connections (the publish waits for the write's
// acknowledgement), one with both on one client (the publish leaves behind the write).
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'
import { Redis } from 'ioredis'
import { fmt, forkTs, load, nextMessage, quantile } from './common.js'
import type { Probe } from './invalidation-child.js'

const child = fileURLToPath(new URL('./invalidation-child.ts', import.meta.url))

interface Writer {
  readonly name: string
  readonly store: TieredStore
  readonly fromWrite: number[]
  readonly fromAck: number[]
  readonly close: () => Promise<unknown>
}

function writer(name: string, redisUrl: string, prefix: string, channel: string, shared: boolean) {
  const client = shared ? new Redis(redisUrl) : undefined
  const bus = new RedisBus({ connection: client ?? redisUrl })
  const l2 = new RedisStore({ connection: client ?? redisUrl, prefix })
  if (bus.orderedWith(l2) !== shared) throw new Error(`${name}: unexpected orderedWith`)
  const store = new TieredStore({ l1: new MemoryStore(), l2, bus, channel })
  const close = async () => {
    await store.close()
    await bus.close()
    await client?.quit()
  }
  return { name, store, fromWrite: [], fromAck: [], close } satisfies Writer
}

/** `samples` writes per writer, one at a time, each with B's L1 holding the key beforehand. */
export async function invalidationSection(redisUrl: string, samples: number): Promise<void> {
  const prefix = `bench-inv-${randomUUID()}:`
  const channel = `bench-inv-${randomUUID()}`
  const writers: Writer[] = [
    writer('separate connections: publish after the write’s ack', redisUrl, prefix, channel, false),
    writer('L2 and bus on one client: publish behind the write', redisUrl, prefix, channel, true),
  ]
  await Promise.all(writers.map((w) => w.store.ready()))
  const encoder = new TextEncoder()
  await writers[0]!.store.set('k', encoder.encode('v'), '10m')
  const b = forkTs(child, [redisUrl, prefix, channel])
  await nextMessage(b)
  b.send('fill')
  await nextMessage(b)
  const startLoad = load()
  let hits = 0
  for (let i = 0; i < samples; i++) {
    // Taking turns, each starting every other round: both see the same moments of load.
    const order = i % 2 === 0 ? writers : [...writers].reverse()
    for (const w of order) {
      const probe = nextMessage<Probe>(b)
      const start = process.hrtime.bigint()
      await w.store.set('k', encoder.encode(`v${i}`), '10m')
      const ack = process.hrtime.bigint()
      const seen = await probe
      if (!seen.missed) hits++
      w.fromWrite.push(Number(BigInt(seen.missAt) - start) / 1e6)
      w.fromAck.push(Number(BigInt(seen.missAt) - ack) / 1e6)
    }
  }
  const row = (name: string, values: number[]) =>
    `| ${name} | ${fmt(quantile(values, 0.5), 3)} | ${fmt(quantile(values, 0.9), 3)} | ${fmt(quantile(values, 0.99), 3)} | ${fmt(Math.max(...values), 3)} |`
  console.log(
    `\n## Invalidation across processes: write on A → key gone from B's L1 (${samples.toLocaleString('en-US')} writes per writer, taking turns; load average at start ${startLoad}, at the end ${load()})\n`,
  )
  console.log('| writer A | interval | p50 ms | p90 ms | p99 ms | max ms |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const w of writers) {
    console.log(row(`${w.name} | write called → gone from B's L1`, w.fromWrite))
    console.log(row(`${w.name} | write acknowledged → gone (negative: before the ack)`, w.fromAck))
  }
  console.log(
    `\nB's L1 still held the key when its listener ran: ${hits} of ${samples * writers.length} times (should be 0).`,
  )
  b.disconnect()
  for (const w of writers) await w.close()
}
