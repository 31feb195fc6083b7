import { addGroup } from './groups/add.js'
import { badInputGroup } from './groups/bad-input.js'
import { basicGroup } from './groups/basic.js'
import { batchGroup } from './groups/batch.js'
import { clearGroup } from './groups/clear.js'
import { concurrencyGroup } from './groups/concurrency.js'
import { countersGroup } from './groups/counters.js'
import { discardsGroup } from './groups/discards.js'
import { gatewayGroup } from './groups/gateway.js'
import { keysGroup } from './groups/keys.js'
import { lifecycleGroup } from './groups/lifecycle.js'
import { lockBasicGroup } from './groups/lock-basic.js'
import { lockTimingGroup } from './groups/lock-timing.js'
import { ttlGroup } from './groups/ttl.js'
import { valuesGroup } from './groups/values.js'
import { registerSuite } from './suite.js'
import type { ConformanceOptions, GroupDefinition, StoreFactory, TestRunner } from './types.js'

/** A suite function: registers its tests with `runner` for stores built by `factory`. */
export type DescribeSuite = (
  runner: TestRunner,
  factory: StoreFactory,
  options?: ConformanceOptions,
) => void

function suite(groups: readonly GroupDefinition[], label: string): DescribeSuite {
  return (runner, factory, options = {}) => registerSuite(runner, factory, options, groups, label)
}

/** The store groups, in the order `describeStore` registers them. */
export const STORE_GROUPS: readonly GroupDefinition[] = [
  basicGroup,
  valuesGroup,
  gatewayGroup,
  keysGroup,
  batchGroup,
  addGroup,
  countersGroup,
  ttlGroup,
  clearGroup,
  concurrencyGroup,
  badInputGroup,
  lifecycleGroup,
  discardsGroup,
]

/** The lock groups, in the order `describeLock` registers them. */
export const LOCK_GROUPS: readonly GroupDefinition[] = [lockBasicGroup, lockTimingGroup]

/** The whole store contract: every store group, skipped by declared capabilities. */
export const describeStore: DescribeSuite = suite(STORE_GROUPS, 'store conformance')
/** The lock contract for stores with `lock()`; skipped with its reason when `locks` is false. */
export const describeLock: DescribeSuite = suite(LOCK_GROUPS, 'lock conformance')
/** `describeStore` and `describeLock` under one outer describe. */
export const describeConformance: DescribeSuite = suite(
  [...STORE_GROUPS, ...LOCK_GROUPS],
  'conformance',
)

/** get / set / has / delete, and namespaces keeping keys apart. */
export const describeBasic: DescribeSuite = suite([basicGroup], 'store conformance')
/** Byte-exact values at store level (and raw values for raw stores). */
export const describeValues: DescribeSuite = suite([valuesGroup], 'store conformance')
/** Typed values and counters through core's `CacheGateway`. */
export const describeGatewayValues: DescribeSuite = suite([gatewayGroup], 'store conformance')
/** Unicode, whitespace, glob, case- and space-sensitive and long keys. */
export const describeKeys: DescribeSuite = suite([keysGroup], 'store conformance')
/** getMany / setMany / deleteMany. */
export const describeBatch: DescribeSuite = suite([batchGroup], 'store conformance')
/** add: write only when absent or expired. */
export const describeAdd: DescribeSuite = suite([addGroup], 'store conformance')
/** increment: deltas, TTL kept, E_NOT_A_NUMBER, bad deltas. */
export const describeCounters: DescribeSuite = suite([countersGroup], 'store conformance')
/** Expiry and every TTL form. */
export const describeTtl: DescribeSuite = suite([ttlGroup], 'store conformance')
/** clear() and prefix isolation between namespaces. */
export const describeClear: DescribeSuite = suite([clearGroup], 'store conformance')
/** Concurrent increments, adds and writes, in-process and across clients. */
export const describeConcurrency: DescribeSuite = suite([concurrencyGroup], 'store conformance')
/** Bad keys, values and limits, refused with typed errors. */
export const describeBadInput: DescribeSuite = suite([badInputGroup], 'store conformance')
/** Declared identity, close() and closed stores. */
export const describeLifecycle: DescribeSuite = suite([lifecycleGroup], 'store conformance')
/** The contract of a store that keeps nothing (`retainsValues: false`). */
export const describeDiscards: DescribeSuite = suite([discardsGroup], 'store conformance')
