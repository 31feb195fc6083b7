import type { Store } from '@cellar/core'
import { expectTypeOf, test } from 'vitest'
import type { FileStore, FileStoreOptions } from '../src/index.js'

test('the constructor takes the public options only; namespaces are FileStores', () => {
  expectTypeOf<ConstructorParameters<typeof FileStore>>().toEqualTypeOf<[FileStoreOptions]>()
  expectTypeOf<FileStore>().toMatchTypeOf<Store<Uint8Array>>()
  expectTypeOf<ReturnType<FileStore['namespace']>>().toEqualTypeOf<FileStore>()
  expectTypeOf<ReturnType<FileStore['ttl']>>().toEqualTypeOf<Promise<number | null | undefined>>()
  expectTypeOf<FileStore['keys']>().returns.toMatchTypeOf<AsyncIterable<string>>()
})
