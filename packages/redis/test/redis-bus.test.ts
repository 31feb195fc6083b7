import { randomUUID } from 'node:crypto'
import type { BusStatus } from '@cellar/core'
import { useRedis } from '@cellar/test-servers'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RedisBus } from '../src/index.js'
import {
  canStartRedisCluster,
  type RedisClusterServer,
  startRedisCluster,
} from './helpers/cluster.js'

const redis = await useRedis()

function inbox(bus: RedisBus, channel: string) {
  const got: string[] = []
  const waiters: Array<() => void> = []
  const ready = bus.subscribe(channel, (message) => {
    got.push(message)
    for (const wake of waiters.splice(0)) wake()
  })
  const until = async (count: number) => {
    while (got.length < count) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { got, ready, until }
}

describe.skipIf(!redis)('RedisBus on a standalone Redis', () => {
  test.each([
    ['sharded (auto)', 'auto' as const],
    ['classic pub/sub', false as const],
  ])('%s: every subscriber gets each message, in order', async (_, sharded) => {
    const channel = `bus-${randomUUID()}`
    await using a = new RedisBus({ connection: redis!.url, sharded })
    await using b = new RedisBus({ connection: redis!.url, sharded })
    const atA = inbox(a, channel)
    const atB = inbox(b, channel)
    await Promise.all([atA.ready, atB.ready])
    expect(a.connected && b.connected).toBe(true)
    for (let i = 0; i < 50; i++) await a.publish(channel, `m${i}`)
    await Promise.all([atA.until(50), atB.until(50)])
    const expected = Array.from({ length: 50 }, (_, i) => `m${i}`)
    expect(atA.got).toEqual(expected)
    expect(atB.got).toEqual(expected)
  })

  test('auto picks sharded pub/sub on a server that has SPUBLISH', async () => {
    await using bus = new RedisBus({ connection: redis!.url })
    const admin = new Redis(redis!.url)
    const info = (await admin.call('COMMAND', 'INFO', 'SPUBLISH')) as unknown[]
    await admin.quit()
    expect(await bus.sharded()).toBe(info[0] !== null)
  })

  test('a killed subscriber connection: down, then up again and subscribed', async () => {
    const channel = `bus-${randomUUID()}`
    const name = `bus-kill-${randomUUID()}`
    const url = new URL(redis!.url)
    await using bus = new RedisBus({
      connection: { host: url.hostname, port: Number(url.port || 6379), connectionName: name },
    })
    await using sender = new RedisBus({ connection: redis!.url })
    const box = inbox(bus, channel)
    await box.ready
    const statuses: BusStatus[] = []
    const back = new Promise<void>((resolve) =>
      bus.onStatus((status) => {
        statuses.push(status)
        if (status === 'up') resolve()
      }),
    )
    const admin = new Redis(redis!.url)
    // The subscriber's entry in CLIENT LIST, once it shows the subscription (a fresh-clone CI run
    // once listed it without: polled, and the last listing is in the failure message).
    let listing = ''
    let line: string | undefined
    for (let tries = 0; line === undefined && tries < 100; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 20))
      listing = (await admin.client('LIST')) as string
      line = listing
        .split('\n')
        .find((entry) => entry.includes(` name=${name} `) && / sub=[1-9]| ssub=[1-9]/.test(entry))
    }
    expect(line, `no subscribed connection named ${name} in:\n${listing}`).toBeDefined()
    await admin.client('KILL', 'ID', /^id=(\d+)/.exec(line as string)![1]!)
    await admin.quit()
    await back
    expect(statuses).toEqual(['down', 'up'])
    await sender.publish(channel, 'after')
    await box.until(1)
    expect(box.got).toEqual(['after'])
  })

  test('publish after close rejects with E_STORE_CLOSED; a given client is not closed', async () => {
    const client = new Redis(redis!.url)
    const bus = new RedisBus({ connection: client })
    await bus.close()
    await expect(bus.publish('c', 'm')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    expect(await client.ping()).toBe('PONG')
    await client.quit()
  })
})

describe.skipIf(!canStartRedisCluster())('RedisBus on a 3-master Redis Cluster (sharded)', () => {
  let server: RedisClusterServer
  let client: Cluster
  beforeAll(async () => {
    server = await startRedisCluster(3)
    client = new Cluster([...server.nodes])
  }, 120_000)
  afterAll(async () => {
    await client?.quit()
    await server?.stop()
  })

  test('channels on every shard reach every subscriber', async () => {
    await using a = new RedisBus({ connection: client })
    await using b = new RedisBus({ connection: client })
    // Sharded where this ioredis has sharded subscribers (6: yes; 5.4: classic pub/sub).
    const shardable = 'shardedSubscribers' in (client.options as object)
    expect(await a.sharded()).toBe(shardable)
    // Enough channels that their slots fall on all three masters.
    const channels = Array.from({ length: 12 }, (_, i) => `bus-${i}-${randomUUID()}`)
    const boxes = channels.map((channel) => inbox(b, channel))
    await Promise.all(boxes.map((box) => box.ready))
    for (const channel of channels) await a.publish(channel, `to ${channel}`)
    await Promise.all(boxes.map((box) => box.until(1)))
    boxes.forEach((box, i) => {
      expect(box.got).toEqual([`to ${channels[i]}`])
    })
  }, 60_000)
})
