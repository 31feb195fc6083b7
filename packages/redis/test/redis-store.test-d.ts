import { CacheGateway, type Lock, type Store } from '@cellar/core'
import { expectTypeOf, test } from 'vitest'
import type { RedisStore, RedisStoreOptions } from '../src/index.js'

test('a byte store whose constructor takes the public options only', () => {
  expectTypeOf<ConstructorParameters<typeof RedisStore>>().toEqualTypeOf<
    [options?: RedisStoreOptions]
  >()
  expectTypeOf<RedisStore>().toExtend<Store<Uint8Array>>()
  expectTypeOf<RedisStore>().not.toExtend<Store<string>>()
  expectTypeOf<ReturnType<RedisStore['get']>>().toEqualTypeOf<Promise<Uint8Array | undefined>>()
  expectTypeOf<RedisStore['set']>().parameter(1).toEqualTypeOf<Uint8Array>()
  expectTypeOf<ReturnType<RedisStore['namespace']>>().toEqualTypeOf<RedisStore>()
})

test('the contract-2 methods are typed as the protocol says', () => {
  expectTypeOf<ReturnType<RedisStore['increment']>>().toEqualTypeOf<Promise<number>>()
  expectTypeOf<ReturnType<RedisStore['touch']>>().toEqualTypeOf<Promise<boolean>>()
  expectTypeOf<ReturnType<RedisStore['ttl']>>().toEqualTypeOf<Promise<number | null | undefined>>()
  expectTypeOf<ReturnType<RedisStore['lock']>>().toEqualTypeOf<Lock>()
})

test('the gateway takes the store without a cast', () => {
  const make = (store: RedisStore) => new CacheGateway(store)
  expectTypeOf(make).returns.toEqualTypeOf<CacheGateway>()
  expectTypeOf(make).returns.toHaveProperty('getValue')
})
