import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CacheGateway } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { RedisStore } from '@cellar/redis'
import { uniquePrefix, useRedis } from '@cellar/test-servers'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  CachedRepository,
  GenerationalResolver,
  type ListResult,
  type Repository,
} from '../src/index.js'
import { type Product, productRepository, seed } from './fixtures.js'
import { type Target, useTargets } from './helpers.js'

const redis = await useRedis()
const { targets, open } = await useTargets()
const WRITES = 150

/**
 * A real repository whose `list` can be held before or after it reads the rows, so that a test
 * can place a write exactly there; `arrived` resolves when a held load reaches the gate.
 */
class GatedRepository {
  readonly entity: string
  readonly #inner: Repository<Product>
  #hold: { at: 'before' | 'after'; arrive: () => void; gate: Promise<void> } | undefined
  constructor(inner: Repository<Product>) {
    this.#inner = inner
    this.entity = inner.entity
  }
  /** Holds the next list load at `at`; resolves `arrived` and a function that lets it go on. */
  hold(at: 'before' | 'after'): { arrived: Promise<void>; release: () => void } {
    let arrive!: () => void
    let release!: () => void
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve
    })
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    this.#hold = { at, arrive, gate }
    return { arrived, release }
  }
  idOf = (item: Product) => this.#inner.idOf(item)
  getById = (id: string | number) => this.#inner.getById(id)
  getByIds = (ids: readonly (string | number)[]) => this.#inner.getByIds(ids)
  query = (name: string, args?: unknown) => this.#inner.query(name, args)
  create = (data: Partial<Product>) => this.#inner.create(data)
  update = (id: string | number, data: Partial<Product>) => this.#inner.update(id, data)
  delete = (id: string | number) => this.#inner.delete(id)
  async list(
    page: { page: number; limit: number },
    filters?: unknown,
  ): Promise<ListResult<Product>> {
    const hold = this.#hold
    this.#hold = undefined
    if (hold?.at === 'before') {
      hold.arrive()
      await hold.gate
    }
    const loaded = await this.#inner.list(page, filters)
    if (hold?.at === 'after') {
      hold.arrive()
      await hold.gate
    }
    return loaded
  }
}

function run(worker: string, args: string[]): Promise<unknown[]> {
  const path = fileURLToPath(new URL(`./workers/${worker}`, import.meta.url))
  return new Promise((resolve, reject) => {
    const messages: unknown[] = []
    const child = fork(path, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
    child.on('message', (message) => messages.push(message))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(messages) : reject(new Error(`${worker} exited with ${code}`)),
    )
  })
}

for (const { name, target } of targets) {
  describe.skipIf(target === undefined || redis === undefined)(`correctness on ${name}`, () => {
    let knex: Knex
    const gateways: CacheGateway[] = []
    const redisGateway = (prefix: string) => {
      const gateway = new CacheGateway(new RedisStore({ connection: redis!.url, prefix }))
      gateways.push(gateway)
      return gateway
    }
    beforeAll(async () => {
      knex = open(target!)
      await seed(knex)
    })
    afterAll(async () => {
      await Promise.all(gateways.map((gateway) => gateway.close()))
    })

    for (const at of ['before', 'after'] as const) {
      test(`a write ${at === 'after' ? 'after a list load read its rows' : 'between the fingerprint and the load'} never lets a later reader see the pre-write list`, async () => {
        const gated = new GatedRepository(productRepository(knex))
        const products = new CachedRepository<Product>(gated, {
          data: new CacheGateway(new MemoryStore()),
          resolver: new GenerationalResolver(redisGateway(uniquePrefix('gen-race'))),
        })
        const page = { page: 1, limit: 5 }
        const { arrived, release } = gated.hold(at)
        const early = products.list(page)
        await arrived
        await products.update(2, { name: `written ${at} the load` }) // committed and bumped
        release()
        // The held load read its rows before the write ('after') or after it ('before').
        expect((await early).items[1]?.name).toBe(
          at === 'after' ? 'product 2' : `written ${at} the load`,
        )
        // Entities cached by the held load must not carry its rows under the new fingerprint.
        expect((await products.getById(2))?.name).toBe(`written ${at} the load`)
        for (let read = 0; read < 2; read++) {
          expect((await products.list(page)).items[1]?.name).toBe(`written ${at} the load`)
        }
        await products.update(2, { name: 'product 2' })
      })
    }

    test('evicted counters never bring an old list back', async () => {
      const counters = redisGateway(uniquePrefix('gen-evict'))
      const products = new CachedRepository<Product>(productRepository(knex), {
        data: new CacheGateway(new MemoryStore()),
        resolver: new GenerationalResolver(counters),
      })
      const page = { page: 1, limit: 5 }
      expect((await products.list(page)).items[0]?.name).toBe('product 1') // cached at generation 0
      await products.update(1, { name: 'after the write' })
      expect((await products.list(page)).items[0]?.name).toBe('after the write')
      await counters.clear() // every counter evicted (or flushed, or a restart)
      expect((await products.list(page)).items[0]?.name).toBe('after the write')
      expect((await products.getById(1))?.name).toBe('after the write')
      await products.update(1, { name: 'product 1' })
    })

    test(`a process reading lists never sees one older than the last write whose bump completed (${WRITES} writes)`, async () => {
      const dataPrefix = uniquePrefix('gen-fork-data')
      const counterPrefix = uniquePrefix('gen-fork-counters')
      await knex('products').where('id', 1).update({ price: 0 })
      const args = [
        JSON.stringify(target as Target),
        redis!.url,
        dataPrefix,
        counterPrefix,
        String(WRITES),
      ]
      const [writer, reader] = await Promise.all([run('writer.ts', args), run('reader.ts', args)])
      expect(writer).toEqual([{ writes: WRITES }])
      const report = reader[0] as { reads: number; stale: number; hits: number }
      expect(report.stale).toBe(0)
      expect(report.reads).toBeGreaterThan(0)
      expect((await knex('products').where('id', 1).first()).price).toBe(WRITES)
      await knex('products').where('id', 1).update({ price: 100 })
    }, 240_000)
  })
}
