import { NullStore } from '@cellar/core'
import { describe, expectTypeOf, test } from 'vitest'
import { type ConformanceOptions, describeStore, type FaultHook } from '../src/index.js'
import { ReferenceStore } from './reference-store.js'

const runner = { describe, test }

// `sibling` receives the factory's own store type: no cast needed to reach its members.
describeStore(runner, () => new ReferenceStore(), {
  sibling: (store) => {
    expectTypeOf(store).toEqualTypeOf<ReferenceStore>()
    return store.sibling()
  },
})
describeStore(runner, async () => new NullStore(), {
  sibling: (store) => {
    expectTypeOf(store).toEqualTypeOf<NullStore>()
    return new NullStore()
  },
})

// Options written for any store still fit a specific one.
const general: ConformanceOptions = { name: 'general' }
describeStore(runner, () => new ReferenceStore(), general)

// The fault hook and the exit check are plain objects.
expectTypeOf({ stop: () => {}, start: async () => {} }).toExtend<FaultHook>()
expectTypeOf({ exit: { module: '/abs/child.ts', execArgv: ['--import', 'tsx'] } }).toExtend<
  ConformanceOptions<NullStore>
>()
// A misspelled option does not compile (and fails one test at run time, for JS users).
expectTypeOf({ atomicCouters: true }).not.toExtend<ConformanceOptions>()
