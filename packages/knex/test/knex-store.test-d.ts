import { CacheGateway, type Lock, type Store } from '@cellar/core'
import { expectTypeOf, test } from 'vitest'
import type { KnexStore, KnexStoreOptions } from '../src/index.js'

test('a byte store whose constructor takes the public options only', () => {
  expectTypeOf<ConstructorParameters<typeof KnexStore>>().toEqualTypeOf<
    [options: KnexStoreOptions]
  >()
  expectTypeOf<KnexStore>().toExtend<Store<Uint8Array>>()
  expectTypeOf<KnexStore>().not.toExtend<Store<string>>()
  expectTypeOf<ReturnType<KnexStore['get']>>().toEqualTypeOf<Promise<Uint8Array | undefined>>()
  expectTypeOf<KnexStore['set']>().parameter(1).toEqualTypeOf<Uint8Array>()
  expectTypeOf<ReturnType<KnexStore['namespace']>>().toEqualTypeOf<KnexStore>()
})

test('the contract-2 methods are typed as the protocol says', () => {
  expectTypeOf<ReturnType<KnexStore['increment']>>().toEqualTypeOf<Promise<number>>()
  expectTypeOf<ReturnType<KnexStore['touch']>>().toEqualTypeOf<Promise<boolean>>()
  expectTypeOf<ReturnType<KnexStore['ttl']>>().toEqualTypeOf<Promise<number | null | undefined>>()
  expectTypeOf<ReturnType<KnexStore['lock']>>().toEqualTypeOf<Lock>()
})

test('the gateway takes the store without a cast', () => {
  const make = (store: KnexStore) => new CacheGateway(store)
  expectTypeOf(make).returns.toEqualTypeOf<CacheGateway>()
  expectTypeOf(make).returns.toHaveProperty('getValue')
})
