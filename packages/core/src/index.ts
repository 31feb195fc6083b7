export { decodeCounter, encodeCounter, requireCounter, SERIALIZED_TAG } from './counter.js'
export type { Duration, Ttl } from './duration.js'
export { parseDuration, resolveTtl } from './duration.js'
export type { CellarErrorCode, CellarErrorOptions } from './errors.js'
export {
  BackendUnavailableError,
  CellarError,
  InvalidArgumentError,
  InvalidKeyError,
  isCellarError,
  LockNotOwnedError,
  LockTimeoutError,
  SerializationError,
  StoreClosedError,
  UnsupportedError,
} from './errors.js'
export type { CacheEvent, CacheEventListener } from './events.js'
export type { CacheGatewayOptions, GetValueOptions } from './gateway.js'
export { CacheGateway } from './gateway.js'
export type {
  Adjustment,
  DbAccess,
  DbRecordsSpec,
  Indexes,
  IndexSpec,
  Interval,
  StorageRecordsSpec,
  StorageTable,
} from './indexes.js'
export { assertBytes, assertDelta, assertKey, assertKeys, utf8Length } from './keys.js'
export type { FencingToken, LockBackend, LockOptions, LockState } from './lock.js'
export { Lock, randomOwner } from './lock.js'
export { NullStore } from './null-store.js'
export type { Serializer } from './serializer.js'
export { JsonSerializer, MsgpackSerializer } from './serializer.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export type { DisposableStore, Store, StoreCapabilities } from './store.js'
