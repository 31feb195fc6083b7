import { NullStore } from '@cellar/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expectTypeOf, test } from 'vitest'
import type { ConformanceOptions, StoreFactory, TestRunner } from '../src/index.js'

// vitest's own functions are a TestRunner as they are, hooks included or not.
expectTypeOf({ describe, test }).toExtend<TestRunner>()
expectTypeOf({ describe, test, beforeEach, afterEach, beforeAll, afterAll }).toExtend<TestRunner>()

// Byte stores, raw stores and async factories are all accepted.
expectTypeOf(() => new NullStore()).toExtend<StoreFactory>()
expectTypeOf(async () => new NullStore()).toExtend<StoreFactory>()

// Capabilities are overridable one by one; unknown options are refused.
expectTypeOf({ ttlPrecision: 1000, locks: false }).toExtend<ConformanceOptions>()
expectTypeOf({ ttlPrecison: 1000 }).not.toExtend<ConformanceOptions>()
