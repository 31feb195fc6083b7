// Section 4: invalidation latency across processes: a write on instance A (this process) until
// instance B (a forked process) has dropped the key from its L1.
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { MemoryStore } from '@cellar/memory'
import { RedisBus, RedisStore } from '@cellar/redis'
import { TieredStore } from '@cellar/tiered'
import { fmt, forkTs, load, nextMessage, quantile } from './common.js'
import type { Probe } from './invalidation-child.js'

const child = fileURLToPath(new URL('./invalidation-child.ts', import.meta.url))

/** `samples` writes, one at a time, each with B's L1 holding the key beforehand. */
export async function invalidationSection(redisUrl: string, samples: number): Promise<void> {
  const prefix = `bench-inv-${randomUUID()}:`
  const channel = `bench-inv-${randomUUID()}`
  const bus = new RedisBus({ connection: redisUrl })
  const a = new TieredStore({
    l1: new MemoryStore(),
    l2: new RedisStore({ connection: redisUrl, prefix }),
    bus,
    channel,
  })
  await a.ready()
  const encoder = new TextEncoder()
  await a.set('k', encoder.encode('v'), '10m')
  const b = forkTs(child, [redisUrl, prefix, channel])
  await nextMessage(b)
  b.send('fill')
  await nextMessage(b)
  const startLoad = load()
  const fromWrite: number[] = []
  const fromAck: number[] = []
  let hits = 0
  for (let i = 0; i < samples; i++) {
    const probe = nextMessage<Probe>(b)
    const start = process.hrtime.bigint()
    await a.set('k', encoder.encode(`v${i}`), '10m')
    const ack = process.hrtime.bigint()
    const seen = await probe
    if (!seen.missed) hits++
    fromWrite.push(Number(BigInt(seen.missAt) - start) / 1e6)
    fromAck.push(Number(BigInt(seen.missAt) - ack) / 1e6)
  }
  const row = (name: string, values: number[]) =>
    `| ${name} | ${fmt(quantile(values, 0.5), 3)} | ${fmt(quantile(values, 0.9), 3)} | ${fmt(quantile(values, 0.99), 3)} | ${fmt(Math.max(...values), 3)} |`
  console.log(
    `\n## Invalidation across processes: write on A → key gone from B's L1 (${samples.toLocaleString('en-US')} writes; load average at start ${startLoad}, at the end ${load()})\n`,
  )
  console.log('| interval | p50 ms | p90 ms | p99 ms | max ms |')
  console.log('| --- | --- | --- | --- | --- |')
  console.log(row("write called on A → key gone from B's L1", fromWrite))
  console.log(
    row("write acknowledged on A → key gone from B's L1 (negative: before the ack)", fromAck),
  )
  console.log(
    `\nB's L1 still held the key when its listener ran: ${hits} of ${samples} times (should be 0).`,
  )
  b.disconnect()
  await a.close()
  await bus.close()
}
