import { afterEach, beforeEach, describe, test } from 'vitest'
import { describeConformance, describeStore } from '../src/index.js'
import { ReferenceStore } from './reference-store.js'

const runner = { describe, test, beforeEach, afterEach }

// Byte mode with finite limits, and a sibling client: every group and every test runs.
describeConformance(runner, () => new ReferenceStore({ maxKeyLength: 200, maxValueSize: 65_536 }), {
  name: 'reference (bytes, limits)',
  sharedAcrossProcesses: true,
  sibling: (store) => (store as ReferenceStore).sibling(),
})

// Raw mode, unbounded, from an async factory: the raw-only tests run, byte-only ones skip.
describeStore(runner, async () => new ReferenceStore({ raw: true }), {
  name: 'reference (raw)',
})
