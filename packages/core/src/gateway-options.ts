import type { EntryMeta } from './codec.js'
import type { CacheEventListener } from './events.js'
import type { Serializer } from './serializer.js'
import type { StandardSchemaV1 } from './standard-schema.js'

export interface CacheGatewayOptions {
  /**
   * Turns values into bytes for byte stores; raw stores skip it.
   * @default new MsgpackSerializer()
   */
  serializer?: Serializer
  /** Keys live under this namespace of the store (`store.namespace(prefix)`). */
  prefix?: string
  /** Receives every event; more listeners can be added with `on()`. */
  onEvent?: CacheEventListener
}

/** Options of the typed reads. */
export interface GetValueOptions<S extends StandardSchemaV1 = StandardSchemaV1> {
  /** Validates (and may convert) the value; one that fails is a miss plus an `E_SCHEMA` event. */
  schema?: S
}

/** A value read back with the metadata it was written with. */
export interface GatewayEntry<T> {
  readonly value: T
  readonly meta: EntryMeta | undefined
}
