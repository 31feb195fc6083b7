import { expectTypeOf } from 'vitest'
import { z } from 'zod'
import {
  CacheGateway,
  CellarError,
  type GatewayEntry,
  isCellarError,
  NullStore,
  type Store,
} from '../src/index.js'

const gateway = new CacheGateway(new NullStore())
const schema = z.object({ id: z.number() })

// Without a schema a read is unknown, or what the caller names.
expectTypeOf(gateway.getValue('k')).toEqualTypeOf<Promise<unknown>>()
expectTypeOf(gateway.getValue<{ id: number }>('k')).toEqualTypeOf<
  Promise<{ id: number } | undefined>
>()
// A schema infers its output.
expectTypeOf(gateway.getValue('k', { schema })).toEqualTypeOf<Promise<{ id: number } | undefined>>()
expectTypeOf(gateway.getValueSync('k', { schema })).toEqualTypeOf<{ id: number } | undefined>()
expectTypeOf(gateway.multiGetValues(['k'], { schema })).toEqualTypeOf<
  Promise<Array<{ id: number } | undefined>>
>()
expectTypeOf(gateway.multiGetValues<string>(['k'])).toEqualTypeOf<
  Promise<Array<string | undefined>>
>()
expectTypeOf(gateway.getEntry('k', { schema })).toEqualTypeOf<
  Promise<GatewayEntry<{ id: number }> | undefined>
>()

// Byte stores and raw stores both build a gateway; a store's new methods are typed.
expectTypeOf<Store<Uint8Array>>().toExtend<ConstructorParameters<typeof CacheGateway>[0]>()
expectTypeOf<Store<unknown>>().toExtend<ConstructorParameters<typeof CacheGateway>[0]>()
expectTypeOf<Store['ttl']>().returns.toEqualTypeOf<Promise<number | null | undefined>>()
expectTypeOf<Store['touch']>().returns.toEqualTypeOf<Promise<boolean>>()

// Error codes are open: a package's own literal narrows through isCellarError.
const error: unknown = new CellarError('E_LOADER_TIMEOUT', '[cellar:cache] timed out')
if (isCellarError(error, 'E_LOADER_TIMEOUT')) {
  expectTypeOf(error.code).toEqualTypeOf<'E_LOADER_TIMEOUT'>()
}

// @ts-expect-error a schema's output is checked, not widened to any
expectTypeOf(gateway.getValue('k', { schema })).toEqualTypeOf<Promise<string | undefined>>()
