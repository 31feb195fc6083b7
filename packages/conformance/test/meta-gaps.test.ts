import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { StoreClosedError } from '@cellar/core'
import { describe, expect, test } from 'vitest'
import {
  assertSameBytes,
  bytes,
  type ConformanceOptions,
  createRecordingRunner,
  type DescribeSuite,
  describeBadInput,
  describeBatch,
  describeClosing,
  describeExit,
  describeFaults,
  describeKeysListing,
  describeLock,
  describeStore,
  type RecordedResult,
} from '../src/index.js'
import {
  type Backend,
  BrokenStore,
  type Bug,
  brokenBackend,
  heldLocks,
  hookOf,
} from './broken-store.js'
import { ReferenceStore } from './reference-store.js'

/** Runs the one test titled `title` of `suite` over `BrokenStore`s with `bugs`. */
async function runOne(
  suite: DescribeSuite,
  bugs: readonly Bug[],
  title: string,
  withHook: boolean,
): Promise<RecordedResult> {
  const backend = brokenBackend(bugs)
  const recorder = createRecordingRunner()
  const options: ConformanceOptions<BrokenStore> = withHook ? { faults: hookOf(backend) } : {}
  suite(recorder, () => new BrokenStore(backend), options)
  const results = await recorder.run((recorded) => recorded.title === title)
  assert.equal(results.length, 1, `expected exactly one test titled "${title}"`)
  return results[0]!
}

const down = (method: string) =>
  `${method} rejects E_BACKEND_UNAVAILABLE with the driver's error as cause when the backend is down`

// Each bug is a gap an adapter author could fall through; the named test must pass on the
// plain wrapper and fail with the bug on.
const cases: Array<[Bug, DescribeSuite, string]> = [
  [
    'clear-releases-locks',
    describeLock,
    'clear() never releases a lock, nor resets its fencing token',
  ],
  [
    'refuses-fractional-ttl',
    describeBadInput,
    'fractional TTLs (1500.5 ms) are accepted by set, setMany, add, touch and increment',
  ],
  [
    'refuses-fractional-ttl',
    describeLock,
    'a fractional lock TTL (1500.5 ms) is accepted by acquire and extend',
  ],
  [
    'accepts-empty-names',
    describeBadInput,
    'namespace("") and lock("") are refused with E_INVALID_KEY',
  ],
  [
    'throws-synchronously',
    describeBadInput,
    'every method rejects bad input as a promise, never a synchronous throw',
  ],
  ['caps-batches', describeBatch, 'getMany, setMany and deleteMany handle 5,000 keys at once'],
  [
    'keys-lists-nested',
    describeKeysListing,
    "keys() of a store leaves out its namespaces' keys; a namespace lists only its own",
  ],
  ['keys-lists-expired', describeKeysListing, 'keys() leaves out deleted, expired and ttl-0 keys'],
  ['keys-lists-locks', describeKeysListing, 'keys() never lists a lock or its bookkeeping'],
  [
    'keys-drops-tilde',
    describeKeysListing,
    'keys() lists exactly the keys written, unicode and "~"-leading keys included',
  ],
  [
    'keys-one-page',
    describeKeysListing,
    'keys() lists every key of a large store (1,200 keys, more than one page)',
  ],
  ['down-hangs', describeFaults, down('get')],
  ['down-hangs', describeFaults, down('lock acquire')],
  ['down-hangs', describeFaults, down('keys() iteration')],
  ['down-bare-error', describeFaults, down('set')],
  ['down-cellar-cause', describeFaults, down('increment')],
  ['down-no-recovery', describeFaults, 'the same store works again once the backend is back'],
  [
    'down-no-recovery',
    describeFaults,
    'a store built while the backend is down fails fast, then works once it is back',
  ],
]

describe('the suite fails a store with a gap the first adapter-author run found', () => {
  for (const [bug, suite, title] of cases) {
    test(`bug "${bug}" fails "${title}"`, async () => {
      const withHook = suite === describeFaults
      const control = await runOne(suite, [], title, withHook)
      expect(control.status, String(control.error)).toBe('passed')
      const broken = await runOne(suite, [bug], title, withHook)
      expect(broken.status).toBe('failed')
      expect(broken.error).toBeInstanceOf(assert.AssertionError)
    })
  }

  test('a hanging backend call fails with a message that says it hung', async () => {
    const broken = await runOne(describeFaults, ['down-hangs'], down('get'), true)
    expect(String(broken.error)).toContain('still pending after 300 ms with the backend down')
  })
})

describe('the exit check', () => {
  const run = async (child: string) => {
    const recorder = createRecordingRunner()
    const module = fileURLToPath(new URL(child, import.meta.url))
    describeExit(recorder, () => new ReferenceStore(), {
      exit: { module, execArgv: ['--import', 'tsx'] },
      timeout: 8_000,
    })
    const results = await recorder.run((recorded) => !recorded.skipped)
    assert.equal(results.length, 1)
    return results[0]!
  }

  test('passes for a child whose store releases everything on close', async () => {
    const result = await run('./exit-child.ts')
    expect(result.status, String(result.error)).toBe('passed')
  })

  test('fails, saying why, for a child whose store leaves a timer running', async () => {
    const result = await run('./exit-child-leaky.ts')
    expect(result.status).toBe('failed')
    expect(String(result.error)).toContain('closed its gateway but was still running')
  })
})

describe('closing a synchronous store', () => {
  // A reference store that also answers getSync/setSync (a Map of its own is enough: only the
  // closing test runs); `leaky` leaves setSync working after close, as a forgotten check would.
  function synchronous(leaky: boolean): ReferenceStore {
    const store = new ReferenceStore()
    const values = new Map<string, unknown>()
    let closed = false
    const refuse = () => {
      throw new StoreClosedError('[cellar:reference] store is closed')
    }
    const close = store.close.bind(store)
    return Object.assign(store, {
      capabilities: Object.freeze({ ...store.capabilities, synchronous: true }),
      getSync: (key: string) => (closed ? refuse() : values.get(key)),
      setSync: (key: string, value: unknown) => {
        if (closed && !leaky) refuse()
        values.set(key, value)
      },
      close: async () => {
        closed = true
        await close()
      },
    })
  }
  const title = 'every method of a closed store rejects with E_STORE_CLOSED, never throws'
  const run = async (leaky: boolean) => {
    const recorder = createRecordingRunner()
    describeClosing(recorder, () => synchronous(leaky))
    const results = await recorder.run((recorded) => recorded.title === title)
    assert.equal(results.length, 1)
    return results[0]!
  }

  test('setSync on a closed store must throw E_STORE_CLOSED', async () => {
    const control = await run(false)
    expect(control.status, String(control.error)).toBe('passed')
    const broken = await run(true)
    expect(broken.status).toBe('failed')
    expect(String(broken.error)).toContain('store.setSync()')
  })
})

describe('suite hygiene', () => {
  test('the lock groups leave no lock held on a shared backend', async () => {
    const backend: Backend = brokenBackend()
    const root = new ReferenceStore()
    const recorder = createRecordingRunner()
    describeLock(recorder, () => new BrokenStore(backend, root.sibling()))
    const results = await recorder.run()
    const failed = results.filter((result) => result.status === 'failed')
    expect(failed.map((result) => result.test.title)).toEqual([])
    expect(backend.locks.size).toBeGreaterThan(20)
    expect(await heldLocks(backend, root.sibling())).toEqual([])
  })

  test('a misspelled capability in options is one failing test that names it', async () => {
    const recorder = createRecordingRunner()
    const options = { atomicCouters: true } as ConformanceOptions
    describeStore(recorder, () => new ReferenceStore(), options)
    const results = await recorder.run()
    expect(results).toHaveLength(1)
    expect(results[0]?.status).toBe('failed')
    expect(String(results[0]?.error)).toContain('"atomicCouters"')
    expect(String(results[0]?.error)).toContain('did you mean "atomicCounters"?')
  })

  test('a misspelled capability declared by the store is one failing test that names it', async () => {
    const recorder = createRecordingRunner()
    const store = new ReferenceStore()
    const { atomicCounters, ...rest } = store.capabilities
    const typo = Object.assign(store, { capabilities: { ...rest, atomicCouters: atomicCounters } })
    describeStore(recorder, () => typo)
    const results = await recorder.run()
    expect(results).toHaveLength(1)
    expect(String(results[0]?.error)).toContain('declared capability "atomicCouters"')
    expect(String(results[0]?.error)).toContain('capability "atomicCounters" is neither declared')
  })

  test('failure messages show text bytes as text', () => {
    expect(() => assertSameBytes(bytes('hello'), bytes('world'), 'greeting')).toThrow(
      'greeting: expected Uint8Array(5) "world", got Uint8Array(5) "hello"',
    )
    expect(() => assertSameBytes(new Uint8Array([0xff, 0]), bytes('x'))).toThrow(
      'got Uint8Array(2) ff00',
    )
  })
})
