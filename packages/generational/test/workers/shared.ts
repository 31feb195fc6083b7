import { CacheGateway } from '@cellar/core'
import { RedisStore } from '@cellar/redis'
import createKnex, { type Knex } from 'knex'
import { CachedRepository, GenerationalResolver } from '../../src/index.js'
import { type Product, productRepository } from '../fixtures.js'
import { knexConfig, type Target } from '../helpers.js'

/** What a worker process builds from its arguments: the same setup as the parent test. */
export interface WorkerSetup {
  knex: Knex
  data: CacheGateway
  counters: CacheGateway
  products: CachedRepository<Product>
  close(): Promise<void>
}

/** argv: target JSON, Redis URL, data prefix, counter prefix. */
export function setup(argv: string[]): WorkerSetup {
  const [targetJson, redisUrl, dataPrefix, counterPrefix] = argv
  const knex = createKnex(knexConfig(JSON.parse(targetJson!) as Target))
  const data = new CacheGateway(new RedisStore({ connection: redisUrl!, prefix: dataPrefix! }))
  const counters = new CacheGateway(
    new RedisStore({ connection: redisUrl!, prefix: counterPrefix! }),
  )
  const products = new CachedRepository(productRepository(knex), {
    data,
    resolver: new GenerationalResolver(counters),
  })
  return {
    knex,
    data,
    counters,
    products,
    close: async () => {
      await Promise.all([data.close(), counters.close(), knex.destroy()])
    },
  }
}
