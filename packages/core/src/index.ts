export type { Bus, BusListener, BusStatus } from './bus.js'
export type { DecodedEntry, EntryMeta } from './codec.js'
export { ENVELOPE_TAG, ENVELOPE_VERSION, ValueCodec } from './codec.js'
export {
  addToCounter,
  decodeCounter,
  encodeCounter,
  requireCounter,
  SERIALIZED_TAG,
} from './counter.js'
export type { DriverContext, DriverEnv, StoreDriver } from './driver.js'
export { envUrl, nullDriver } from './driver.js'
export type { Duration, Ttl } from './duration.js'
export { parseDuration, resolveTtl } from './duration.js'
export type {
  BackendErrorContext,
  CellarErrorCode,
  CellarErrorOptions,
  CoreErrorCode,
} from './errors.js'
export {
  BackendUnavailableError,
  backendError,
  CellarError,
  InvalidArgumentError,
  InvalidKeyError,
  isCellarError,
  LockNotOwnedError,
  LockTimeoutError,
  SchemaError,
  SerializationError,
  StoreClosedError,
  UnsupportedError,
} from './errors.js'
export type {
  CacheEvent,
  CacheEventBase,
  CacheEventListener,
  CacheEventType,
  CacheOperation,
} from './events.js'
export type { CacheGatewayOptions, GatewayEntry, GetValueOptions } from './gateway.js'
export { CacheGateway } from './gateway.js'
export type {
  Adjustment,
  DbAccess,
  DbRecordsSpec,
  Indexes,
  IndexSpec,
  Interval,
  RecordScorer,
  StorageRecordsSpec,
  StorageTable,
} from './indexes.js'
export {
  assertBytes,
  assertDelta,
  assertKey,
  assertKeys,
  namespacePrefix,
  scopedKey,
  unscopedKey,
  utf8Length,
} from './keys.js'
export type { FencingToken, LockBackend, LockOptions, LockState } from './lock.js'
export { Lock, randomOwner } from './lock.js'
export { NullStore } from './null-store.js'
export type {
  RateLimitAlgorithm,
  RateLimitBackend,
  RateLimitDecision,
  RateLimitOutcome,
  RateLimitRequest,
  RateLimitState,
  RateLimitStep,
} from './rate-limit.js'
export {
  fixedWindowStep,
  rateLimitStep,
  slidingWindowStep,
  tokenBucketStep,
} from './rate-limit.js'
export { SteppedRateLimitBackend } from './rate-limit-backend.js'
export { decodeRateLimitState, encodeRateLimitState } from './rate-limit-state.js'
export type { Serializer } from './serializer.js'
export { JsonSerializer, MsgpackSerializer } from './serializer.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export type {
  DisposableStore,
  IncrementOptions,
  Store,
  StoreCapabilities,
} from './store.js'
export type { LockOperation, LockTraceContext, StoreTraceContext } from './tracing.js'
export { isTracing, LOCK_TRACING_CHANNEL, STORE_TRACING_CHANNEL } from './tracing.js'
