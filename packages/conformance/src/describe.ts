import { addGroup } from './groups/add.js'
import { badInputGroup } from './groups/bad-input.js'
import { basicGroup } from './groups/basic.js'
import { batchGroup } from './groups/batch.js'
import { clearGroup } from './groups/clear.js'
import { closingGroup, closingRootGroup } from './groups/closing.js'
import { concurrencyGroup } from './groups/concurrency.js'
import { contractRulesGroup } from './groups/contract-rules.js'
import { counterTtlGroup } from './groups/counter-ttl.js'
import { countersGroup } from './groups/counters.js'
import { discardsGroup } from './groups/discards.js'
import { exitGroup } from './groups/exit.js'
import {
  type ClockedStoreFactory,
  clockedFactory,
  expiryBoundaryGroup,
} from './groups/expiry-boundary.js'
import { faultsGroup } from './groups/faults.js'
import { gatewayGroup } from './groups/gateway.js'
import { keysGroup } from './groups/keys.js'
import { keysListingGroup } from './groups/keys-listing.js'
import { lifecycleGroup } from './groups/lifecycle.js'
import { lockBasicGroup } from './groups/lock-basic.js'
import { lockTimingGroup } from './groups/lock-timing.js'
import { namespacesGroup } from './groups/namespaces.js'
import { touchTtlGroup } from './groups/touch-ttl.js'
import { ttlGroup } from './groups/ttl.js'
import { valuesGroup } from './groups/values.js'
import { registerSuite } from './suite.js'
import type {
  AnyStore,
  ConformanceOptions,
  GroupDefinition,
  StoreFactory,
  TestRunner,
} from './types.js'

/**
 * A suite function: registers its tests with `runner` for stores built by `factory`. Generic on
 * the store type, so `options.sibling` receives your store class without a cast.
 */
export type DescribeSuite = <S extends AnyStore>(
  runner: TestRunner,
  factory: StoreFactory<S>,
  options?: ConformanceOptions<S>,
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
  counterTtlGroup,
  ttlGroup,
  touchTtlGroup,
  clearGroup,
  namespacesGroup,
  concurrencyGroup,
  badInputGroup,
  contractRulesGroup,
  lifecycleGroup,
  closingGroup,
  closingRootGroup,
  discardsGroup,
  keysListingGroup,
  faultsGroup,
  exitGroup,
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
/** `keys()`: exactly the live keys of a namespace (skipped when `listsKeys` is false). */
export const describeKeysListing: DescribeSuite = suite([keysListingGroup], 'store conformance')
/** Backend failures and recovery, through `options.faults` (skipped without it). */
export const describeFaults: DescribeSuite = suite([faultsGroup], 'store conformance')
/** A child process that closes its gateway must exit, through `options.exit` (skipped without it). */
export const describeExit: DescribeSuite = suite([exitGroup], 'store conformance')
/** increment with a ttl: applied only when the increment creates the counter. */
export const describeCounterTtl: DescribeSuite = suite([counterTtlGroup], 'store conformance')
/** touch(key, ttl) and ttl(key), through namespaces too. */
export const describeTouchTtl: DescribeSuite = suite([touchTtlGroup], 'store conformance')
/** Namespaces that cannot alias the parent's keys, siblings or nested namespaces. */
export const describeNamespaces: DescribeSuite = suite([namespacesGroup], 'store conformance')
/** Zero durations, lone surrogates, expired deletes, the safe range, canonical counters, -0. */
export const describeContractRules: DescribeSuite = suite([contractRulesGroup], 'store conformance')
/** The closing rule: root, namespaces, lock handles and gateways (factory returns the root). */
export const describeClosing: DescribeSuite = suite(
  [closingGroup, closingRootGroup],
  'store conformance',
)

/**
 * The expiry boundary (alive at exactly `t + ttl`, gone 1 ms later) for stores that accept an
 * injected clock: `build(now)` returns a store that reads time from `now`. Registers the group
 * twice, with a clock starting at 0 and one starting at `Date.now()`.
 */
export function describeExpiryBoundary<S extends AnyStore>(
  runner: TestRunner,
  build: ClockedStoreFactory<S>,
  options: ConformanceOptions<S> = {},
): void {
  const groups = [expiryBoundaryGroup]
  const fromZero = clockedFactory(build, () => 0)
  const fromNow = clockedFactory(build, Date.now)
  registerSuite(runner, fromZero, options, groups, 'store conformance (clock from 0)')
  registerSuite(runner, fromNow, options, groups, 'store conformance (clock from Date.now())')
}
