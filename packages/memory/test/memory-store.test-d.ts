import { CacheGateway, type Store } from '@cellar/core'
import { expectTypeOf } from 'vitest'
import { MemoryStore, type MemoryStoreOptions } from '../src/index.js'

// Byte mode (the default) is a Store<Uint8Array>.
const bytes = new MemoryStore()
expectTypeOf(bytes).toEqualTypeOf<MemoryStore<Uint8Array>>()
expectTypeOf(new MemoryStore({ raw: false })).toEqualTypeOf<MemoryStore<Uint8Array>>()
expectTypeOf(bytes).toExtend<Store<Uint8Array>>()
expectTypeOf(bytes.get('k')).toEqualTypeOf<Promise<Uint8Array | undefined>>()
expectTypeOf(bytes.getSync('k')).toEqualTypeOf<Uint8Array | undefined>()
expectTypeOf(bytes.set).parameter(1).toEqualTypeOf<Uint8Array>()
expectTypeOf(bytes.namespace('ns')).toEqualTypeOf<MemoryStore<Uint8Array>>()

// Raw mode is a Store<unknown>, and not a byte store.
const raw = new MemoryStore({ raw: true, maxEntries: 10 })
expectTypeOf(raw).toEqualTypeOf<MemoryStore<unknown>>()
expectTypeOf(raw).toExtend<Store<unknown>>()
expectTypeOf(raw).not.toExtend<Store<Uint8Array>>()
expectTypeOf(raw.get('k')).toEqualTypeOf<Promise<unknown>>()
expectTypeOf(raw.namespace('ns')).toEqualTypeOf<MemoryStore<unknown>>()

// A mode only known at run time gives either.
declare const options: MemoryStoreOptions
expectTypeOf(new MemoryStore(options)).toEqualTypeOf<
  MemoryStore<Uint8Array> | MemoryStore<unknown>
>()

// The contract-2 methods are there, typed as the protocol says.
expectTypeOf(bytes.increment('n', 1, { ttl: '1m' })).toEqualTypeOf<Promise<number>>()
expectTypeOf(bytes.touch('k', null)).toEqualTypeOf<Promise<boolean>>()
expectTypeOf(bytes.ttl('k')).toEqualTypeOf<Promise<number | null | undefined>>()
expectTypeOf(bytes.keys()).toEqualTypeOf<AsyncIterable<string>>()

// The gateway infers over both modes without a cast.
const gateway = new CacheGateway(new MemoryStore())
expectTypeOf(gateway).toEqualTypeOf<CacheGateway>()
expectTypeOf(gateway.getValue<{ id: number }>('k')).toEqualTypeOf<
  Promise<{ id: number } | undefined>
>()
expectTypeOf(gateway.getValueSync<string>('k')).toEqualTypeOf<string | undefined>()
expectTypeOf(new CacheGateway(new MemoryStore({ raw: true })).store).toEqualTypeOf<Store<unknown>>()

// Internals stay out of the constructor: it takes only public options.
// @ts-expect-error a second (internal) constructor argument does not exist
new MemoryStore({}, {})
