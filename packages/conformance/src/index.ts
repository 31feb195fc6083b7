export type { DescribeSuite } from './describe.js'
export {
  describeAdd,
  describeBadInput,
  describeBasic,
  describeBatch,
  describeClear,
  describeConcurrency,
  describeConformance,
  describeCounters,
  describeDiscards,
  describeGatewayValues,
  describeKeys,
  describeLifecycle,
  describeLock,
  describeStore,
  describeTtl,
  describeValues,
  LOCK_GROUPS,
  STORE_GROUPS,
} from './describe.js'
export {
  assertMiss,
  assertRejectsWithCode,
  assertSameBytes,
  bytes,
  randomKey,
  sleep,
} from './helpers.js'
export type { RecordedResult, RecordedTest, RecordingRunner } from './recording-runner.js'
export { createRecordingRunner } from './recording-runner.js'
export { defaultTiming } from './settings.js'
export { registerSuite } from './suite.js'
export type {
  AnyStore,
  ConformanceCapabilities,
  ConformanceOptions,
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
