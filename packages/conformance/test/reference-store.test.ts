import { afterEach, beforeEach, describe, test } from 'vitest'
import { describeConformance, describeExpiryBoundary, describeStore } from '../src/index.js'
import { ReferenceStore } from './reference-store.js'

const runner = { describe, test, beforeEach, afterEach }

// Byte mode with finite limits, and a sibling client: every group and every test runs.
describeConformance(runner, () => new ReferenceStore({ maxKeyLength: 200, maxValueSize: 65_536 }), {
  name: 'reference (bytes, limits)',
  sharedAcrossProcesses: true,
  sibling: (store) => store.sibling(),
})

// Raw mode, unbounded, from an async factory: the raw-only tests run, byte-only ones skip.
describeStore(runner, async () => new ReferenceStore({ raw: true }), {
  name: 'reference (raw)',
})

// A backend that cannot read TTLs back (memcached): ttl() of a live key is E_UNSUPPORTED.
describeStore(runner, () => new ReferenceStore({ readsTtl: false }), {
  name: 'reference (readsTtl: false)',
})

// The expiry boundary with a clock moved by hand.
describeExpiryBoundary(runner, (now) => new ReferenceStore({ now }), { name: 'reference' })
describeExpiryBoundary(runner, (now) => new ReferenceStore({ now, readsTtl: false }), {
  name: 'reference (readsTtl: false)',
})
