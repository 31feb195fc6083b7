import type { Socket } from 'node:net'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest'
import { BinaryCommand } from '../src/binary-command.js'
import { RedisStore, type RedisStoreOptions } from '../src/index.js'

// Guards for every ioredis internal the store leans on (see "Driver internals" in the README).
// Each test fails if the internal silently stops doing what the store relies on; the file runs
// on both ioredis majors like every other.
const redis = await useRedis()
const bytes = (text: string) => new TextEncoder().encode(text)
const BURST = 10

/** Counts the writes that reach the socket: each `_write`/`_writev` call is one write to the kernel. */
function countWrites(socket: Socket): { writes: number; chunks: unknown[]; restore(): void } {
  const state = { writes: 0, chunks: [] as unknown[], restore: () => {} }
  const target = socket as unknown as {
    _write: (chunk: unknown, encoding: string, cb: () => void) => void
    _writev: (chunks: Array<{ chunk: unknown }>, cb: () => void) => void
  }
  const write = target._write
  const writev = target._writev
  target._write = function (chunk, encoding, cb) {
    state.writes++
    state.chunks.push(chunk)
    return write.call(this, chunk, encoding, cb)
  }
  target._writev = function (chunks, cb) {
    state.writes++
    for (const { chunk } of chunks) state.chunks.push(chunk)
    return writev.call(this, chunks, cb)
  }
  state.restore = () => {
    target._write = write
    target._writev = writev
  }
  return state
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe.skipIf(!redis)('ioredis internals the store relies on', () => {
  const stores: RedisStore[] = []
  const clients: Redis[] = []
  const open = (options: RedisStoreOptions = {}) => {
    const store = new RedisStore({
      connection: redis!.url,
      prefix: uniquePrefix('redis-int'),
      ...options,
    })
    stores.push(store)
    return store
  }
  afterEach(() => vi.restoreAllMocks())
  afterAll(async () => {
    for (const store of stores) await store.clear().catch(() => {})
    for (const store of stores) await store.close()
    for (const client of clients) await client.quit()
  })

  /** Runs one burst of `BURST` gets in a single tick and counts the socket writes it took. */
  async function burst(store: RedisStore): Promise<number> {
    const socket = (store.client as Redis).stream
    const counter = countWrites(socket)
    try {
      await Promise.all(Array.from({ length: BURST }, (_, i) => store.get(`k${i}`)))
    } finally {
      counter.restore()
    }
    return counter.writes
  }

  test('cork: a burst leaves in one socket write once bursting, two on the first burst', async () => {
    const store = open()
    await store.get('warm')
    await tick()
    // First burst after a single-command tick: the first command goes at once, the rest corked.
    expect(await burst(store)).toBe(2)
    // The tick after a burst corks from its first command: the whole burst is one write.
    expect(await burst(store)).toBe(1)
    expect(await burst(store)).toBe(1)
  })

  test('without cork every command of a burst is its own socket write', async () => {
    const store = open({ cork: false })
    await store.get('warm')
    await tick()
    expect(await burst(store)).toBe(BURST)
    expect(await burst(store)).toBe(BURST)
  })

  test('a client you pass is never corked unless you opt in with cork: true', async () => {
    const client = new Redis(redis!.url)
    clients.push(client)
    const given = new RedisStore({ connection: client, prefix: uniquePrefix('redis-int') })
    stores.push(given)
    await given.get('warm')
    await tick()
    const cork = vi.spyOn(client.stream, 'cork')
    expect(await burst(given)).toBe(BURST)
    expect(await burst(given)).toBe(BURST)
    expect(cork).not.toHaveBeenCalled()
    const optedIn = new RedisStore({ connection: client, prefix: given.prefix, cork: true })
    stores.push(optedIn)
    await optedIn.get('warm')
    await tick()
    expect(await burst(optedIn)).toBe(2)
    expect(await burst(optedIn)).toBe(1)
    expect(cork).toHaveBeenCalled()
  })

  test('set sends our single-buffer command: its toWritable output is the one chunk written', async () => {
    const store = open({ cork: false })
    await store.get('warm')
    await tick()
    const toWritable = vi.spyOn(BinaryCommand.prototype, 'toWritable')
    const counter = countWrites((store.client as Redis).stream)
    const value = new Uint8Array([0, 13, 10, 255, 0xc1])
    try {
      await store.set('bin', value, 60_000)
      await store.add('bin2', value)
    } finally {
      counter.restore()
    }
    expect(toWritable).toHaveBeenCalledTimes(2)
    expect(counter.writes).toBe(2)
    const written = toWritable.mock.results.map((result) => result.value as Buffer)
    expect(counter.chunks).toEqual(written)
    const full = `${store.prefix}bin`
    const expected = Buffer.concat([
      Buffer.from(`*5\r\n$3\r\nset\r\n$${full.length}\r\n${full}\r\n$5\r\n`),
      Buffer.from(value),
      Buffer.from('\r\n$2\r\nPX\r\n$5\r\n60000\r\n'),
    ])
    expect(written[0]).toEqual(expected)
    expect(new Uint8Array((await store.client.getBuffer(full))!)).toEqual(value)
  })

  test("the client's own keyPrefix is read from its public options", async () => {
    const keyPrefix = uniquePrefix('redis-int-kp')
    const client = new Redis(redis!.url, { keyPrefix })
    clients.push(client)
    expect(client.options.keyPrefix).toBe(keyPrefix)
    const store = new RedisStore({ connection: client, prefix: 'p:' })
    stores.push(store)
    await store.set('a', bytes('1'))
    const listed: string[] = []
    for await (const key of store.keys()) listed.push(key)
    expect(listed).toEqual(['a'])
    await store.clear()
    expect(await store.has('a')).toBe(false)
  })
})
