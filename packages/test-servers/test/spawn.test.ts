import { spawn } from 'node:child_process'
import { execPath } from 'node:process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, test } from 'vitest'
import {
  canStartMemcached,
  canStartRedis,
  findRedis,
  pingMemcached,
  pingRedis,
  type RedisServer,
  startMemcached,
  startRedis,
} from '../src/index.js'

const started: { stop(): Promise<void> }[] = []
afterAll(async () => {
  for (const server of started) await server.stop()
})

/** Polls until `check` turns false; the test's own timeout bounds the wait. */
async function until(check: () => Promise<boolean>, wanted: boolean) {
  while ((await check()) !== wanted) await sleep(50)
}

describe.skipIf(!canStartRedis())('startRedis', () => {
  test('stop() takes it down, start() brings it back on the same port', async () => {
    const server = await startRedis()
    started.push(server)
    expect(server.source).toBe('spawned')
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
    expect(await pingRedis(server.url)).toBe(true)

    await server.stop()
    expect(await pingRedis(server.url)).toBe(false)
    await server.stop()

    await server.start()
    expect(await pingRedis(server.url)).toBe(true)
    const client = new Redis(server.url)
    try {
      expect(await client.set('k', 'v')).toBe('OK')
    } finally {
      client.disconnect()
    }
  })

  test('always spawns a new server, with extra arguments', async () => {
    const a = await startRedis({ args: ['--maxmemory', '10mb'] })
    const b = await startRedis()
    started.push(a, b)
    expect(a.port).not.toBe(b.port)
    const client = new Redis(a.url)
    try {
      expect(await client.config('GET', 'maxmemory')).toEqual([
        'maxmemory',
        String(10 * 1024 * 1024),
      ])
    } finally {
      client.disconnect()
    }
  })

  test('a bad argument fails with the server log, not a hang', async () => {
    await expect(startRedis({ args: ['--no-such-option', 'x'] })).rejects.toThrow(
      /exited before answering/,
    )
  })

  test('a server found through an env URL refuses stop()', async () => {
    const own = await startRedis()
    started.push(own)
    const found = (await findRedis({ env: { REDIS_URL: own.url } })) as RedisServer
    expect(found.source).toBe('env')
    expect(found.port).toBe(own.port)
    await expect(found.stop()).rejects.toThrow(/startRedis/)
  })

  test('dies with the process that spawned it, even on SIGKILL', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const url = await spawnInChild(signal)
      await until(() => pingRedis(url, 200), false)
    }
  })
})

describe.skipIf(!canStartMemcached())('startMemcached', () => {
  test('stop() takes it down, start() brings it back on the same port', async () => {
    const server = await startMemcached()
    started.push(server)
    expect(server.source).toBe('spawned')
    expect(server.servers).toBe(`127.0.0.1:${server.port}`)
    expect(await pingMemcached(server.host, server.port)).toBe(true)
    await server.stop()
    expect(await pingMemcached(server.host, server.port)).toBe(false)
    await server.start()
    expect(await pingMemcached(server.host, server.port)).toBe(true)
  })
})

/**
 * Starts a redis-server from a child node process, kills that process with `signal` once the
 * server answers, and returns the server's URL.
 */
async function spawnInChild(signal: NodeJS.Signals): Promise<string> {
  const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
  const script = `const { startRedis } = await import(${JSON.stringify(entry)}); const s = await startRedis(); console.log(s.url); setInterval(() => {}, 1000)`
  const child = spawn(execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const line = /redis:\/\/\S+/.exec(out)
      if (line) resolve(line[0])
    })
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)))
  })
  expect(await pingRedis(url)).toBe(true)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
  return url
}
