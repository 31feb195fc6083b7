export type { DescribeSuite } from './describe.js'
export {
  describeAdd,
  describeBadInput,
  describeBasic,
  describeBatch,
  describeClear,
  describeClosing,
  describeConcurrency,
  describeConformance,
  describeContractRules,
  describeCounters,
  describeCounterTtl,
  describeDiscards,
  describeExit,
  describeExpiryBoundary,
  describeFaults,
  describeGatewayValues,
  describeKeys,
  describeKeysListing,
  describeLifecycle,
  describeLock,
  describeNamespaces,
  describeStore,
  describeTouchTtl,
  describeTtl,
  describeValues,
  LOCK_GROUPS,
  STORE_GROUPS,
} from './describe.js'
export type { ClockedStoreFactory } from './groups/expiry-boundary.js'
export { describeLimiter } from './groups/limiter.js'
export type {
  LimiterFactory,
  LimiterHarness,
  LimiterProcesses,
  LimiterResultLike,
  LimiterSpec,
  LimiterSuiteOptions,
  LimiterUnderTest,
} from './groups/limiter-types.js'
export type { StorageTableFactory, StorageTableRow } from './groups/storage-table.js'
export { describeStorageTable, storageTableScorer } from './groups/storage-table.js'
export {
  assertMiss,
  assertRejectsWithCode,
  assertSameBytes,
  bytes,
  randomKey,
  sleep,
} from './helpers.js'
export { preview } from './preview.js'
export type { RecordedResult, RecordedTest, RecordingRunner } from './recording-runner.js'
export { createRecordingRunner } from './recording-runner.js'
export { assertRejectsAsync } from './rejects.js'
export { CAPABILITY_KEYS, defaultTiming, settingsProblems } from './settings.js'
export { registerSuite } from './suite.js'
export type {
  AnyStore,
  BareTest,
  ConformanceCapabilities,
  ConformanceOptions,
  ExitCheck,
  FaultHook,
  GroupApi,
  GroupDefinition,
  GroupTestOptions,
  StoreFactory,
  StoreTest,
  SuiteSettings,
  TestFunction,
  TestKit,
  TestRegistrar,
  TestRunner,
  Timing,
} from './types.js'
