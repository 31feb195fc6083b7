// One contender alone, for `node --cpu-prof --import tsx src/profile.ts <contender> [ops]`:
// memory-fixed, memory-sync, memory-map, redis-fixed, redis-sliding, redis-bucket, redis-raw.
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { findRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { asyncMap, type Contender, cellar, cellarSync, rawLua } from './contenders.js'

const which = process.argv[2] ?? 'memory-fixed'
const ops = Number(process.argv[3] ?? 200_000)
const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}`)

async function run(contender: Contender): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < ops) {
      const i = next++
      await contender.consume(keys[((i % 1024) * 7919) % 1024] as string)
    }
  }
  const start = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: 64 }, worker))
  const used = process.cpuUsage(cpu)
  const seconds = (performance.now() - start) / 1000
  const cpuUs = (used.user + used.system) / ops
  console.log(
    `${contender.name}: ${Math.round(ops / seconds)} ops/s, ${cpuUs.toFixed(2)} µs CPU/op`,
  )
}

if (which.startsWith('memory')) {
  const store = new MemoryStore()
  const contender =
    which === 'memory-map'
      ? asyncMap()
      : which === 'memory-sync'
        ? cellarSync(store, 'fixed-window', 'sync')
        : cellar(store, 'fixed-window', 'fixed')
  await run(contender)
  await run(contender)
  await store.close()
} else {
  const server = await findRedis()
  if (server === undefined) throw new Error('no Redis')
  const client = new Redis(server.url)
  const store = new RedisStore({ connection: server.url, prefix: 'bench:profile:' })
  const algorithm =
    which === 'redis-sliding'
      ? 'sliding-window'
      : which === 'redis-bucket'
        ? 'token-bucket'
        : 'fixed-window'
  const contender = which === 'redis-raw' ? rawLua(client) : cellar(store, algorithm, algorithm)
  await run(contender)
  await run(contender)
  const stats = (await client.info('commandstats')).split('\n').filter((l) => l.includes('eval'))
  console.log(stats.join('\n'))
  await store.close()
  client.disconnect()
  if (server.source === 'spawned') await server.stop()
}
