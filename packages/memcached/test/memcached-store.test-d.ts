import { CacheGateway, type Lock, type Store } from '@cellar/core'
import { expectTypeOf, test } from 'vitest'
import type { MemcachedStore, MemcachedStoreOptions } from '../src/index.js'

test('a byte store whose constructor takes the public options only', () => {
  expectTypeOf<ConstructorParameters<typeof MemcachedStore>>().toEqualTypeOf<
    [options?: MemcachedStoreOptions]
  >()
  expectTypeOf<MemcachedStore>().toExtend<Store<Uint8Array>>()
  expectTypeOf<MemcachedStore>().not.toExtend<Store<string>>()
  expectTypeOf<ReturnType<MemcachedStore['get']>>().toEqualTypeOf<Promise<Uint8Array | undefined>>()
  expectTypeOf<MemcachedStore['set']>().parameter(1).toEqualTypeOf<Uint8Array>()
  expectTypeOf<ReturnType<MemcachedStore['namespace']>>().toEqualTypeOf<MemcachedStore>()
})

test('the contract-2 methods are typed as the protocol says', () => {
  expectTypeOf<ReturnType<MemcachedStore['increment']>>().toEqualTypeOf<Promise<number>>()
  expectTypeOf<ReturnType<MemcachedStore['touch']>>().toEqualTypeOf<Promise<boolean>>()
  expectTypeOf<ReturnType<MemcachedStore['ttl']>>().toEqualTypeOf<
    Promise<number | null | undefined>
  >()
  expectTypeOf<ReturnType<MemcachedStore['lock']>>().toEqualTypeOf<Lock>()
})

test('the gateway takes the store without a cast', () => {
  const make = (store: MemcachedStore) => new CacheGateway(store)
  expectTypeOf(make).returns.toEqualTypeOf<CacheGateway>()
  expectTypeOf(make).returns.toHaveProperty('getValue')
})
