import { fileURLToPath } from 'node:url'
import { describeExpiryBoundary, describeLock, describeStore } from '@cellar/conformance'
import { afterEach, beforeEach, describe, test } from 'vitest'
import { MemoryStore } from '../src/index.js'

const runner = { describe, test, beforeEach, afterEach }
// A child process builds a MemoryStore from this module, closes its gateway and must exit.
const exit = {
  module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
  execArgv: ['--import', 'tsx'],
}

describe('byte mode', () => {
  const factory = () => new MemoryStore({ pruneInterval: false })
  describeStore(runner, factory, { name: 'memory (bytes)', exit })
  describeLock(runner, factory, { name: 'memory (bytes)' })
})

describe('raw mode', () => {
  const factory = () => new MemoryStore({ raw: true })
  describeStore(runner, factory, { name: 'memory (raw)' })
  describeLock(runner, factory, { name: 'memory (raw)' })
})

describe('a namespace with size limits', () => {
  const factory = () =>
    new MemoryStore({ maxBytes: 1024 * 1024, maxValueSize: 64 * 1024 }).namespace('tenant')
  describeStore(runner, factory, { name: 'memory (namespaced, limited)' })
})

// The expiry boundary with a clock the test moves, from 0 (lru-cache reads a start time of 0 as
// "no TTL") and from Date.now(), in both modes.
describe('injected clock', () => {
  for (const raw of [false, true]) {
    describeExpiryBoundary(runner, (now) => new MemoryStore({ now, raw, pruneInterval: false }), {
      name: `memory (${raw ? 'raw' : 'bytes'}, injected clock)`,
    })
  }
})
