import { Redis } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { canStartRedisSentinel, pingRedis, startRedisSentinel } from '../src/index.js'

describe.skipIf(!canStartRedisSentinel())('startRedisSentinel', () => {
  test('a sentinel that knows its master; ioredis connects through it; stop() ends both', async () => {
    const server = await startRedisSentinel({ name: 'probe' })
    try {
      expect(server.name).toBe('probe')
      expect(server.sentinels).toHaveLength(1)
      const [sentinel] = server.sentinels
      expect(sentinel!.port).not.toBe(server.master.port)
      const client = new Redis({ sentinels: [...server.sentinels], name: 'probe' })
      try {
        await client.set('through-sentinel', 'yes')
        const direct = new Redis(server.master.url)
        expect(await direct.get('through-sentinel')).toBe('yes')
        await direct.quit()
      } finally {
        await client.quit()
      }
    } finally {
      await server.stop()
    }
    expect(await pingRedis(server.master.url)).toBe(false)
    expect(
      await pingRedis(`redis://${server.sentinels[0]!.host}:${server.sentinels[0]!.port}`),
    ).toBe(false)
  })
})
